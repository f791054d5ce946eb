package api

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/consensus"
)

func (s robotsAPI) listRobots(c *gin.Context) {
	// Read the index first: the lists read after it are at least as fresh.
	index := s.cfg.Store.AppliedIndex()
	setAppliedIndex(c, index)
	c.JSON(http.StatusOK, RobotList{Robots: s.fleet(), AppliedIndex: index})
}

// fleet merges the LAN robots gossip knows with the internet robots Raft
// records, each with the jobs it holds.
func (s *Server) fleet() []Robot {
	running := s.cfg.Store.RunningJobs()
	now := time.Now()
	memberStates := map[string]string{}
	robots := []Robot{}
	for _, m := range s.cfg.Members() {
		memberStates[m.Name] = m.State
		if !slices.Contains(m.Roles, wire.RoleRobot) {
			continue
		}
		r := Robot{
			ID: m.Name, Name: m.Name, Kind: RobotKindLAN, State: m.State, Tags: nonNil(m.Tags),
			Capacity: m.Capacity, Node: m.Name, CurrentJobs: nonNil(running[m.Name].Jobs), Since: m.Since,
		}
		s.judgeHeartbeats(&r, running[m.Name], now)
		robots = append(robots, r)
	}
	for _, rec := range s.cfg.Store.Robots() {
		if slices.ContainsFunc(robots, func(lan Robot) bool { return lan.ID == rec.ID }) {
			continue
		}
		r := Robot{
			ID: rec.ID, Name: rec.ID, Kind: cmp.Or(rec.Kind, RobotKindInternet),
			State: s.internetRobotState(rec.Connected, rec.Node, memberStates), Tags: nonNil(rec.Tags),
			Capacity: rec.Capacity, Node: rec.Node, CurrentJobs: nonNil(running[rec.ID].Jobs), Since: rec.Since,
		}
		s.judgeHeartbeats(&r, running[rec.ID], now)
		robots = append(robots, r)
	}
	slices.SortFunc(robots, func(a, b Robot) int { return strings.Compare(a.ID, b.ID) })
	s.annotateFleet(robots, running)
	return robots
}

// judgeHeartbeats marks an alive robot suspect when it holds jobs but
// has not heartbeated them for RobotSuspectAfter: a paused, overloaded or
// cut-off robot that gossip or its tunnel still shows, whose leases will
// expire unless it recovers.
func (s *Server) judgeHeartbeats(r *Robot, h consensus.Holding, now time.Time) {
	if r.State != RobotAlive || len(h.Jobs) == 0 || h.StalestRenewal.IsZero() {
		return
	}
	if now.Sub(h.StalestRenewal) >= s.cfg.RobotSuspectAfter {
		r.State, r.Since = RobotSuspect, h.StalestRenewal
	}
}

// internetRobotState judges an internet robot by its tunnel and by the
// node at the other end of it: a robot connected through a node that is
// not alive may have lost its connection without anyone recording it.
func (s *Server) internetRobotState(connected bool, node string, memberStates map[string]string) string {
	switch {
	case !connected:
		return RobotDisconnected
	case node == s.cfg.NodeName, memberStates[node] == RobotAlive:
		return RobotAlive
	}
	return RobotSuspect
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
