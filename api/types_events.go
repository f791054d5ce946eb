package api

import "github.com/casare/casare/api/wire"

// The event stream's wire types, as in package wire.
type (
	Event       = wire.Event
	EventFrame  = wire.EventFrame
	QueueCounts = wire.QueueCounts
)

// Event and frame types, as in package wire.
const (
	EventJob      = wire.EventJob
	EventProgress = wire.EventProgress
	EventFire     = wire.EventFire
	EventRobot    = wire.EventRobot
	EventDrain    = wire.EventDrain
	EventLeader   = wire.EventLeader

	FrameHello   = wire.FrameHello
	FrameEvents  = wire.FrameEvents
	FrameReload  = wire.FrameReload
	FrameDropped = wire.FrameDropped
)
