// Command storefront serves the shop. Configuration comes from the environment; see README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	command := run // serve the shop
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "admin" {
		command, args = runAdmin, args[1:]
	}
	if err := command(ctx, args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "storefront: %v\n", err)
		os.Exit(1)
	}
}
