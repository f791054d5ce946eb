package archive_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/casare/casare/archive"
	"github.com/casare/casare/archive/archivetest"
)

func open(t testing.TB, url string) *archive.DB {
	t.Helper()
	db, err := archive.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatalf("open archive: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// schemaOf lists the migration versions and the tables and views.
func schemaOf(t *testing.T, url string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var s string
	err = conn.QueryRow(ctx, `SELECT (SELECT string_agg(version_id::text || ':' || is_applied::text, ',' ORDER BY id) FROM casare_schema_version)
		|| ' ' || (SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'public')`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMigrationsAppliedTwiceAreANoOp(t *testing.T) {
	url := archivetest.Database(t)
	open(t, url)
	first := schemaOf(t, url)
	for _, want := range []string{"jobs", "job_attempts", "job_logs", "workflows", "workflow_versions", "schedules", "schedule_fires", "robots", "workflow_stats", "queue_stats", "robot_stats"} {
		if !strings.Contains(first, want) {
			t.Errorf("schema lacks %s: %s", want, first)
		}
	}
	open(t, url)
	if second := schemaOf(t, url); second != first {
		t.Fatalf("second start changed the schema:\n%s\n%s", first, second)
	}
}

func TestOpenRefusesABadURL(t *testing.T) {
	_, err := archive.Open(context.Background(), "mysql://nope", nil)
	if !errors.Is(err, archive.ErrBadURL) || !strings.Contains(err.Error(), "mysql://nope") {
		t.Fatalf("want ErrBadURL naming the URL, got %v", err)
	}
}

func TestOpenNamesAnUnreachableDatabase(t *testing.T) {
	// A port that was free a moment ago: nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = archive.Open(ctx, "postgres://postgres@"+addr+"/casare?sslmode=disable", nil)
	if !errors.Is(err, archive.ErrUnreachable) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("want ErrUnreachable naming %s, got %v", addr, err)
	}
}
