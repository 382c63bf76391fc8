// A null scheduler extender: the extender wire protocol with no decision at all, for measuring what the
// protocol itself costs kube-scheduler (bench/scheduler_throughput.py --null-extenders). filter passes
// every node it is sent, prioritize scores every node 0. It decodes each request and encodes each reply,
// as any extender must, and nothing else. Not part of Augur; built by the benchmark with the Go toolchain.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
)

type extenderArgs struct {
	NodeNames *[]string `json:"NodeNames"`
}

type filterResult struct {
	NodeNames   *[]string         `json:"NodeNames"`
	FailedNodes map[string]string `json:"FailedNodes"`
	Error       string            `json:"Error"`
}

type hostPriority struct {
	Host  string `json:"Host"`
	Score int64  `json:"Score"`
}

func decode(w http.ResponseWriter, r *http.Request) (*extenderArgs, bool) {
	var args extenderArgs
	if err := json.NewDecoder(r.Body).Decode(&args); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, false
	}
	if args.NodeNames == nil {
		empty := []string{}
		args.NodeNames = &empty
	}
	return &args, true
}

func main() {
	addr := flag.String("listen", "127.0.0.1:8888", "address to serve on")
	flag.Parse()
	http.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })
	http.HandleFunc("/filter", func(w http.ResponseWriter, r *http.Request) {
		if args, ok := decode(w, r); ok {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(filterResult{NodeNames: args.NodeNames, FailedNodes: map[string]string{}})
		}
	})
	http.HandleFunc("/prioritize", func(w http.ResponseWriter, r *http.Request) {
		if args, ok := decode(w, r); ok {
			scores := make([]hostPriority, len(*args.NodeNames))
			for i, n := range *args.NodeNames {
				scores[i] = hostPriority{Host: n}
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(scores)
		}
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
