package robot

import (
	"log/slog"
	"time"
)

// claimWarnEvery is how often a robot whose claims keep failing says so
// again. A claim is retried every 2 s at most, and while a cluster has
// lost its quorum that is a warning every 2 s for as long as it lasts
// (on every robot); the first failure, one a minute after it and the
// recovery say the same.
const claimWarnEvery = time.Minute

// claimFailures is a claim loop's run of failed claims.
type claimFailures struct {
	count    int       // failed in a row
	since    time.Time // the first of them
	lastWarn time.Time
}

// failed logs a failed claim: a warning for the first of a run and
// every claimWarnEvery after, the others at debug level.
func (f *claimFailures) failed(log *slog.Logger, now time.Time, err error) {
	if f.count == 0 {
		f.since = now
	}
	f.count++
	if f.count > 1 && now.Sub(f.lastWarn) < claimWarnEvery {
		log.Debug("claim failed; retrying it", "err", err, "failed_in_a_row", f.count)
		return
	}
	f.lastWarn = now
	if f.count == 1 {
		log.Warn("claim failed; retrying it", "err", err)
		return
	}
	log.Warn("claims still failing; retrying", "err", err, "failed_in_a_row", f.count, "since", f.since.Format(time.RFC3339))
}

// answered ends a run of failures, saying so if there was one.
func (f *claimFailures) answered(log *slog.Logger, now time.Time) {
	if f.count > 1 {
		log.Info("claims answered again", "failed_in_a_row", f.count, "for", now.Sub(f.since).Round(time.Millisecond))
	}
	*f = claimFailures{}
}
