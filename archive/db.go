package archive

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrBadURL is returned by Open for a URL that is not a Postgres URL.
var ErrBadURL = errors.New("bad archive URL")

// ErrUnreachable is returned by Open when Postgres does not answer.
var ErrUnreachable = errors.New("archive database unreachable")

// connectTimeout bounds the first connection at start: long enough for a
// Postgres on another host, short enough that a typo in the URL is a
// prompt error, not a hung start.
const connectTimeout = 10 * time.Second

// DB is an open, migrated archive.
type DB struct {
	pool *pgxpool.Pool
	log  *slog.Logger
}

// Open connects to the Postgres at url, applies the embedded migrations
// that are not yet applied, and returns the archive. A URL that does not
// parse is ErrBadURL; a database that does not answer is ErrUnreachable;
// both name the problem.
func Open(ctx context.Context, url string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v (want postgres://user@host:5432/db?sslmode=disable)", ErrBadURL, redact(url), err)
	}
	cfg.ConnConfig.ConnectTimeout = connectTimeout
	// The archiver's writers each hold a connection for a batch; the API's
	// reads of the archive need some beside them.
	cfg.MaxConns = max(cfg.MaxConns, writers+2)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%w at %s:%d (database %q): %v", ErrUnreachable, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	db := &DB{pool: pool, log: log.With("component", "archive")}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// migrate applies the pending migrations and logs what it applied.
func (db *DB) migrate(ctx context.Context) error {
	sqlDB := stdlib.OpenDBFromPool(db.pool)
	defer sqlDB.Close()
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("archive migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, mustSub(migrations, "migrations"),
		goose.WithSessionLocker(locker), goose.WithTableName("casare_schema_version"))
	if err != nil {
		return fmt.Errorf("archive migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply archive migrations: %w", err)
	}
	for _, r := range results {
		db.log.Info("applied archive migration", "version", r.Source.Version, "took", r.Duration)
	}
	return nil
}

// Close closes the connection pool.
func (db *DB) Close() { db.pool.Close() }
