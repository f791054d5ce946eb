// Package executor owns Casare's workflow model, its validation, the engine
// that runs a workflow, the library of node types, and run checkpoints.
//
// # Design
//
// Data flows from JSON to a plan to a run. [Parse] and [Validate] turn a
// workflow's JSON into a checked model (the API validates with them
// before anything is stored; the cluster stores the JSON). An [Engine]
// turns the model into a plan and runs it ([Engine.Run]): each node
// reads the run's variables, does its work (HTTP, files, shell, a
// browser, …) and writes variables back; after nodes complete the engine
// hands the caller a [Checkpoint], which a robot reports to the cluster
// and passes back to resume a run elsewhere. The package knows nothing of
// the cluster: no Raft, no HTTP server, no robots, only the callbacks of
// [RunOptions].
//
// # Workflows
//
// A workflow is JSON:
//
//	{
//	  "name": "invoice-sync",
//	  "variables": {"retries": 3},
//	  "nodes": [
//	    {"id": "start", "type": "start"},
//	    {"id": "fetch", "type": "http_request",
//	     "config": {"url": "{{ base_url }}/invoices", "output_var": "resp"},
//	     "timeout": "30s", "retry": {"max": 3, "backoff": "1s"}},
//	    {"id": "done", "type": "end"}
//	  ],
//	  "connections": [
//	    {"from": "start", "to": "fetch"},
//	    {"from": "fetch", "to": "done"}
//	  ]
//	}
//
// [Parse] decodes it strictly, [Validate] checks it against the node type
// registry that [NodeTypes] describes, and [Engine.Run] executes it.
//
// Execution starts at the single start node and follows connections. A
// connection without a port leaves a node normally; a port picks a branch:
// true/false for if, body/done for for_each and while, and error for a
// failure handler. When a path ends (the node has no connection for the port
// it took) inside a loop body, control returns to the loop node for the next
// iteration; outside any loop the run succeeds.
//
// # Templating
//
// A config string may contain {{ expression }} parts, evaluated with
// github.com/expr-lang/expr against the run's variables. A string that is
// exactly one {{ expression }} yields the expression's typed value (a list,
// number, map, ...); otherwise every part is rendered as text and spliced in.
// The conditions of if and while are bare expressions. Each distinct
// expression is compiled once per Engine and cached. Variables shadow expr's
// builtins of the same name (a variable sum is read by {{ sum }}, while
// {{ sum(xs) }} still calls the builtin), and {{ "{{" }} writes a literal
// "{{".
//
// # Variables
//
// Variables hold JSON values only, so that checkpoints can carry them. A
// top-level variable holding a whole number is stored as an int (JSON
// decodes every number as float64, but expressions need ints for % and ..);
// nested values keep their JSON form. Nodes replace variables and never
// modify a stored value in place.
//
// # Failures
//
// A failing node whose error port is connected continues there, with the
// variables error (the message) and error_node (the node id) set. Otherwise
// the run fails. Failures have a kind, reported in [Result.FailureKind]:
//
//   - business ([FailureBusiness]): the workflow itself decided that the work
//     failed, through an end node with status failed or a fail node. Retrying
//     cannot help, so the job queue must not retry it.
//   - application ([FailureApplication]): anything else, such as a refused
//     connection, a non-zero exit status, a timeout or a missing file. The
//     queue may retry it.
//
// Per-node timeout and retry settings apply before the error port: a node is
// retried with exponential backoff and only its final failure is handled.
//
// # What a robot allows
//
// A robot's owner may limit the node types its engine runs
// (EngineOptions.NodeTypes, an allow or a deny list) and confine its file
// nodes to one directory (EngineOptions.FileRoot, enforced through os.Root
// so neither .. nor a symbolic link leads out). A workflow needing a type
// the policy forbids fails before its first node, and a path outside the
// root fails its node; both are business failures naming the rule,
// because the robot's owner decided and a retry here cannot help.
//
// # Limits
//
// Every run is bounded so that no workflow can hang or kill its robot: a
// run timeout and a step limit per attempt (the workflow's "limits"
// object, see [Limits]; defaults [DefaultRunTimeout] and
// [DefaultMaxSteps]), caps on retries, delays, node timeouts and loop
// iterations that validation enforces, and caps on the size of
// variables, files read and HTTP bodies. Expressions are compiled with a
// guard (guard.go) that checks the node's deadline on every loop
// iteration and charges memory before the operations whose output can
// outgrow their input. A run that hits a limit fails as a business
// failure wrapping a [*LimitError] that names the limit
// (errors.Is(err, [ErrLimit])): the same input would hit it on any robot.
//
// # Checkpoints
//
// After nodes complete the engine hands [RunOptions.OnCheckpoint] a
// [Checkpoint]: the next node to run, the loop positions, the variables and
// the ids of completed nodes. Checkpoints are plain JSON-serializable values,
// so a caller can replicate them and later pass one to [RunOptions.Resume] to
// continue the run without re-running the nodes it covers. Fast nodes are
// batched (see [RunOptions.CheckpointEvery]); nodes with side effects are
// always followed by a checkpoint. Node side effects are therefore
// at-least-once: the node that was running when a robot died runs again.
//
// A snapshot shares values with the running engine, which is cheap because
// the engine never changes a stored variable value in place: it only replaces
// top-level variables. Holders of a checkpoint must not modify it either.
//
// Some state cannot be checkpointed and is rebuilt instead: a subworkflow
// runs as one step, so a resumed run repeats it from its start, and browser
// sessions end with the process that ran them, so browser nodes after a
// resume fail until a browser_open runs again.
//
// # Debugging
//
// RunOptions.BeforeNode runs before every node and may block, which is how
// `casare run --debug` pauses; CallStack tells a hook which subworkflow
// calls the node is nested in, and Evaluate evaluates watch expressions.
package executor
