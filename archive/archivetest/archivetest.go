// Package archivetest gives tests a fresh Postgres database of their own.
package archivetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the local Postgres the tests use when CASARE_TEST_PG is
// not set: trust authentication on loopback, as CI starts it.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Database creates a database with a random name on the test Postgres,
// drops it when the test ends, and returns its URL. With CASARE_TEST_PG
// set (CI) a missing Postgres fails the test; otherwise it skips it.
func Database(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("CASARE_TEST_PG")
	required := admin != ""
	if !required {
		admin = DefaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		if required {
			t.Fatalf("CASARE_TEST_PG=%s but Postgres does not answer: %v", admin, err)
		}
		t.Skipf("no Postgres at %s (set CASARE_TEST_PG to make this a failure): %v", admin, err)
	}
	conn.Close(ctx)
	dbURL, drop, err := Create(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	return dbURL
}

// Create creates a database with a random name on the Postgres at the
// admin URL and returns its URL and the function that drops it (also
// for the benchmark, which runs outside a test).
func Create(ctx context.Context, admin string) (string, func() error, error) {
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, fmt.Errorf("postgres URL: %w", err)
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", nil, fmt.Errorf("postgres at %s: %w", u.Redacted(), err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "casare_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		return nil
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}
