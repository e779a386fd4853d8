// Runs static/js/roomstate.js itself for the Python tests: one JSON command per line in,
// one JSON answer per line out. {"viewer": "v1", "snapshot": {...}} or {"viewer": "v1",
// "frame": {...}} apply; {"viewer": "v1", "state": true} answers what the page would show.
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

const source = readFileSync(new URL("../../../static/js/roomstate.js", import.meta.url), "utf8");
const { RoomState } = await import(`data:text/javascript,${encodeURIComponent(source)}`);

const viewers = new Map();
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const command = JSON.parse(line);
  let state = viewers.get(command.viewer);
  if (!state) viewers.set(command.viewer, (state = new RoomState()));
  if (command.snapshot) state.applySnapshot(command.snapshot);
  if (command.frame) state.apply(command.frame);
  const answer = command.state
    ? {
        items: state.allItems(),
        visible: state.visibleItems().map((i) => i.item_id),
        hidden: [...state.hidden].sort((a, b) => a - b),
        on_air_item_id: state.onAirItemId(),
        on_air_by_stream: Object.fromEntries(
          Object.entries(state.onAir).filter(([, id]) => id != null),
        ),
        status: state.broadcast.status,
        showing: state.showing(),
      }
    : {};
  process.stdout.write(JSON.stringify(answer) + "\n");
}
