// Package loadgen is roomring's load generator: `roomring loadgen`.
//
// It holds N websocket connections to one node or a cluster (targets round
// robin), made from several 127.0.0.x source addresses so that each address
// brings its own ephemeral port range, optionally from several worker
// processes (a process may open at most ~20,000 files here): the parent
// starts itself with --worker, sends the workers commands on their stdin and
// aggregates the samples they write on stdout, one JSON object a line.
//
// Connections speak venueless (JSON arrays) or Socket.IO (Engine.IO 4) with
// a minimal built-in websocket client. In the rooms mode a share of them
// enter one big room and the rest spread over other rooms; reactions,
// moderator broadcasts and leave/enter churn run at configured rates. A
// broadcast carries its send time ("lg:<unix ns>" in the room.schedule
// title, or in the reaction of a Socket.IO resource:setReaction), so every
// receiver computes its delivery latency; room.reaction pushes, which carry
// no time, are measured as their spread after the first receipt. The ingest
// mode floods room.react with a window of frames in flight per connection;
// the echo mode sends the same frames to the echo fixture (loadgen/echo),
// the ceiling ingest is compared with.
//
// Latencies go into log-linear histograms of bounded size that merge
// exactly across processes. The server's RSS and CPU come from
// /proc/<pid> when its pids are given. Figures and the commands that
// produce them are in docs/benchmarks.md.
package loadgen
