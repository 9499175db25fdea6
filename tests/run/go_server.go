// A Go net/http server for tests/run/: what a Go program sees under
// proxyproto-run. Standard library only. It listens on 127.0.0.1 (any
// port), prints "port N", and answers every request with the line
//   peer=IP:PORT
// (r.RemoteAddr, which Go takes from accept4's address), also printed on
// standard output. Built twice by the tests: CGO_ENABLED=0 (static) and
// with cgo (dynamic, cgo resolver). With the argument "echo" it is a plain
// TCP echo server instead (for measurements: pp_loadgen --mode short).
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
)

func main() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("port %d\n", l.Addr().(*net.TCPAddr).Port)
	if len(os.Args) > 1 && os.Args[1] == "echo" {
		for {
			c, err := l.Accept()
			if err != nil {
				continue
			}
			go func(c net.Conn) {
				io.Copy(c, c)
				c.Close()
			}(c)
		}
	}
	http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		line := fmt.Sprintf("peer=%s", r.RemoteAddr)
		fmt.Println(line)
		fmt.Fprintln(w, line)
	}))
}
