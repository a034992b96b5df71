/**
 * One camera's pipeline, as the composition root (server.ts) builds it and the HTTP routes use
 * it: the parts in the order frames flow through them. A plain record; each part owns its state.
 *
 * @module
 */
import type { EncodePlanner } from "../plan/encode_planner.ts";
import type { Source } from "../source/source.ts";
import type { ViewerRegistry } from "../viewers/viewer_registry.ts";
import type { CameraMetrics } from "./camera_metrics.ts";
import type { Capture } from "./capture.ts";
import type { Demand } from "./demand.ts";
import type { Encoder } from "./encoder.ts";
import type { FrameHub } from "./frame_hub.ts";
import type { Publisher } from "./publisher.ts";
import type { Supervisor } from "./supervisor.ts";

/** The parts of one camera. */
export interface Camera {
  /** The name in URLs (`/NAME/stream`) and metrics labels. */
  readonly name: string;
  readonly source: Source;
  readonly planner: EncodePlanner;
  readonly supervisor: Supervisor;
  readonly encoder: Encoder;
  readonly capture: Capture;
  readonly demand: Demand;
  readonly publisher: Publisher;
  readonly hub: FrameHub;
  readonly viewers: ViewerRegistry;
  readonly metrics: CameraMetrics;
  /** `--history` in seconds (the reach of `?ago=`). */
  readonly history: number;
}
