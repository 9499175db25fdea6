%% The Erlang echo server from the original project's README, as used for
%% its benchmark, with three changes for tests/servers/apps.sh: it listens
%% on 127.0.0.1 only, prints "listening" once bound, and prints
%% "peer ADDRESS PORT" (inet:peername/1) for each connection it accepts.
-module(echo).

-export([start/0, start/1]).

start() ->
    start(1122).

start(Port) ->
    {ok, S} = gen_tcp:listen(Port, [
        binary,
        {ip, {127, 0, 0, 1}},
        {reuseaddr, true},
        {backlog, 1024}
    ]),
    io:format("listening~n"),
    accept(S).

accept(LS) ->
    {ok, S} = gen_tcp:accept(LS),
    {ok, {Addr, Port}} = inet:peername(S),
    io:format("peer ~s ~p~n", [inet:ntoa(Addr), Port]),
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
