package api

import (
	"cmp"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// robotRole is the gossip role of a node that runs a LAN robot.
const robotRole = "robot"

func (s *Server) listRobots(c *gin.Context) {
	// Read the index first: the lists read after it are at least as fresh.
	index := s.cfg.Store.AppliedIndex()
	setAppliedIndex(c, index)
	c.JSON(http.StatusOK, RobotList{Robots: s.fleet(), AppliedIndex: index})
}

// fleet merges the LAN robots gossip knows with the internet robots Raft
// records, each with the jobs it holds.
func (s *Server) fleet() []Robot {
	running := s.cfg.Store.RunningJobs()
	memberStates := map[string]string{}
	robots := []Robot{}
	for _, m := range s.cfg.Members() {
		memberStates[m.Name] = m.State
		if !slices.Contains(m.Roles, robotRole) {
			continue
		}
		robots = append(robots, Robot{
			ID: m.Name, Name: m.Name, Kind: RobotKindLAN, State: m.State, Tags: nonNil(m.Tags),
			Capacity: m.Capacity, Node: m.Name, CurrentJobs: nonNil(running[m.Name]), Since: m.Since,
		})
	}
	for _, r := range s.cfg.Store.Robots() {
		if slices.ContainsFunc(robots, func(lan Robot) bool { return lan.ID == r.ID }) {
			continue
		}
		robots = append(robots, Robot{
			ID: r.ID, Name: r.ID, Kind: cmp.Or(r.Kind, RobotKindInternet),
			State: s.internetRobotState(r.Connected, r.Node, memberStates), Tags: nonNil(r.Tags),
			Capacity: r.Capacity, Node: r.Node, CurrentJobs: nonNil(running[r.ID]), Since: r.Since,
		})
	}
	slices.SortFunc(robots, func(a, b Robot) int { return strings.Compare(a.ID, b.ID) })
	return robots
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
