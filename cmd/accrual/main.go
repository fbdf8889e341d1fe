// Command accrual is the one binary of Accrual: serve, replay, verify, bench.
package main

import (
	"fmt"
	"os"
)

const usage = `usage: accrual <command> [flags]

commands:
  serve    [--node-id ID] [--raft-addr ADDR] [--http-addr ADDR] [--data DIR] [--program FILE]
           [--keys FILE] [--bootstrap | --join HTTPADDR] [--tls-cert F --tls-key F]
           [--max-conns N] [--max-conns-per-ip N] [--header-timeout D] [--read-timeout D]
           [--write-timeout D] [--idle-timeout D]
  replay   --program FILE [--dump] [--data DIR] < commands.ndjson
  import   --program FILE --data DIR [--node-id ID] [--raft-addr ADDR] [--dump] < history.ndjson
  verify   --data DIR
  backup   --out FILE [--addr HTTPADDR] [--key KEY]
  restore  --in FILE --data DIR [--node-id ID] [--raft-addr ADDR]
  chaos    --duration D [--seed S] [--nodes N] [--dir DIR]
  report   --program FILE [--json] [--point-value-minor N] < history.ndjson
  simulate --program FILE --candidate FILE [--json] [--top N] < history.ndjson
  bench    gen|program|run|scale … (accrual bench -h)
  cluster  status|add|remove|transfer-leadership [--addr HTTPADDR] [--key KEY]
           [--id ID --raft-addr ADDR --http-addr ADDR]
  export   members [--addr HTTPADDR] [--key KEY] [--page N] [--consistency C] > members.ndjson
  feed     --from HTTPADDR --to kafka://HOST:PORT/TOPIC --cursor-file FILE [--key KEY] [--batch N]
           [--kafka-tls …] [--kafka-sasl-mechanism M --kafka-sasl-user U]
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "replay":
		err = cmdReplay(os.Args[2:])
	case "serve":
		err = cmdServe(os.Args[2:])
	case "import":
		err = cmdImport(os.Args[2:])
	case "backup":
		err = cmdBackup(os.Args[2:], os.Stdout)
	case "restore":
		err = cmdRestore(os.Args[2:], os.Stdout)
	case "verify":
		err = cmdVerify(os.Args[2:])
	case "cluster":
		err = cmdCluster(os.Args[2:], os.Stdout)
	case "export":
		err = cmdExport(os.Args[2:], os.Stdout)
	case "feed":
		err = cmdFeed(os.Args[2:], os.Stderr)
	case "bench":
		err = cmdBench(os.Args[2:])
	case "chaos":
		err = cmdChaos(os.Args[2:])
	case "report":
		err = cmdReport(os.Args[2:])
	case "simulate":
		err = cmdSimulate(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "accrual: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "accrual:", err)
		os.Exit(1)
	}
}
