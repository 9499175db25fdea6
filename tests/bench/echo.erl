%% The echo server of the original libproxyproto README's benchmark,
%% unchanged but for start/1 taking the port from the command line, and
%% listening on 127.0.0.1 only: bench.py picks a port free there, and on
%% any address the port may be another socket's local port (the bench's
%% own silent clients on 127.3.x.y hold a thousand), which made listen()
%% fail with eaddrinuse now and then.
%%   erl -noshell -eval "echo:start(Port)"
-module(echo).

-export([start/0, start/1]).

start() ->
    start(1122).

start(Port) ->
    {ok, S} = gen_tcp:listen(Port, [
        binary,
        {reuseaddr, true},
        {ip, {127, 0, 0, 1}},
        {backlog, 1024}
    ]),
    accept(S).

accept(LS) ->
    {ok, S} = gen_tcp:accept(LS),
    Pid = spawn(fun() -> recv(S) end),
    _ = gen_tcp:controlling_process(S, Pid),
    accept(LS).

recv(S) ->
    receive
        {tcp, S, Data} ->
            gen_tcp:send(S, Data),
            recv(S);
        {tcp_closed, S} ->
            ok;
        Error ->
            error_logger:error_report([{socket, S}, {error, Error}])
    end.
