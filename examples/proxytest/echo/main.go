// Command echo is a stand-in application for trying the example proxy
// configs: it answers every request with its method, URI and the identity
// headers the proxy passed on.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"strings"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8000", "address to listen on")
	flag.Parse()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s\n", r.Method, r.RequestURI)
		for _, name := range []string{"X-Auth-User", "X-Auth-Roles", "X-Auth-Backend-Roles"} {
			fmt.Fprintf(w, "%s: %s\n", name, strings.Join(r.Header.Values(name), ","))
		}
	})
	log.Printf("echo: listening on http://%s", *listen)
	log.Fatal(http.ListenAndServe(*listen, h))
}
