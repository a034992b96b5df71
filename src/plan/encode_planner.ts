/**
 * Holds the encode plan in force for one camera. The plan is decided by `planEncode` as soon as
 * the source's offer is known: at startup for most inputs, at each open for a camera (which may
 * be plugged in later, or be another camera after a replug). `/state`, the banner, `/metrics`,
 * the source and the encoder all read the plan from here.
 *
 * @module
 */
import type { Size } from "../core/frame.ts";
import { type EncodePlan, type EncodeRequest, planEncode } from "./encode_plan.ts";
import type { SourceKind, SourceOffer } from "./encode_plan.ts";

/** The plan of one camera, decided from its offer. */
export class EncodePlanner {
  readonly kind: SourceKind;
  readonly request: EncodeRequest;
  readonly #onChange?: (plan: EncodePlan, offer: SourceOffer) => void;
  #plan: EncodePlan | null = null;
  #offer: SourceOffer | null = null;

  /** `onChange` hears every new plan (a camera replugged in another mode, say). */
  constructor(
    kind: SourceKind,
    request: EncodeRequest,
    onChange?: (plan: EncodePlan, offer: SourceOffer) => void,
  ) {
    this.kind = kind;
    this.request = request;
    this.#onChange = onChange;
  }

  /** The plan in force, or null before the source's offer is known. */
  get current(): EncodePlan | null {
    return this.#plan;
  }

  /** What the source offered last. */
  get offer(): SourceOffer | null {
    return this.#offer;
  }

  /**
   * Decides (or confirms) the plan for `offer`. `options.size` replaces the requested size when
   * the source already produces it (a test pattern drawn at `--size`, a camera mode chosen for
   * it): null then means "no scaling".
   *
   * @throws {TypeError} for a request no path can serve (see `planEncode`).
   */
  decide(offer: SourceOffer, options: { size?: Size | null } = {}): EncodePlan {
    const request = "size" in options
      ? { ...this.request, size: options.size ?? null }
      : this.request;
    const plan = planEncode(this.kind, offer, request);
    const changed = !this.#plan || JSON.stringify(plan) !== JSON.stringify(this.#plan) ||
      JSON.stringify(offer) !== JSON.stringify(this.#offer);
    this.#plan = plan;
    this.#offer = offer;
    if (changed) this.#onChange?.(plan, offer);
    return plan;
  }
}
