/**
 * Consensus weights per round (SPEC_CONSENSUS §1a). With a stake lag L, the weights of
 * round r are the ledger's stake table after every anchor received in a round <= r − L;
 * the caller (the node, the simulator) reports that table as rounds are decided and
 * applied. Without a lag the genesis stakes are used for every round (engines fed from
 * headers alone, with no ledger). Pure: the table is a function of the finalized order.
 */
import { PhantomError, invariant } from "../errors.ts";
import { ConsensusConfigError } from "./errors.ts";
import type { StakeTable } from "./rounds.ts";
import { NONE } from "./dag.ts";

/** Smallest lag that lets a round be decided at all (the first deciding voter is 2 rounds up). */
export const STAKE_LAG_ROUNDS_MIN = 2;

/** Stake table from bigint stakes; null when the total is zero (no supermajority exists). */
export function stakeTableOf(stakes: readonly bigint[]): StakeTable | null {
  let total = 0n;
  for (const s of stakes) {
    invariant(s >= 0n, "stakes are non-negative");
    total += s;
  }
  if (total === 0n) return null;
  invariant(total <= BigInt(Number.MAX_SAFE_INTEGER), "total stake below 2^53 (checked at genesis; slashing only lowers it)");
  return { stake: Float64Array.from(stakes, (s) => Number(s)), quorum: Number((2n * total) / 3n + 1n) };
}

export class NoStakeError extends PhantomError<"CONSENSUS_NO_STAKE"> {
  constructor(round: number) {
    super("CONSENSUS_NO_STAKE", `the stake table after round ${round} has total stake 0: no supermajority can exist, consensus halts here on every node`);
    this.name = "NoStakeError";
  }
}

/** What a WeightSchedule holds beyond its configuration (engine-state.ts writes and restores it). */
export interface WeightScheduleState {
  /** Latest reported stakes. */
  stakes: bigint[];
  /** Change points, ascending by `from`. */
  changes: { from: number; stakes: bigint[] }[];
  knownThrough: number;
}

export class WeightSchedule {
  private readonly genesis: StakeTable;
  private readonly genesisStakes: readonly bigint[];
  private readonly stakes: bigint[];
  /** Change points, ascending: from round `from` on (until the next), `table` applies. */
  private readonly changes: { from: number; stakes: bigint[]; table: StakeTable }[] = [];
  /** Highest round R whose table (after the anchors of rounds <= R) was reported. */
  private knownThrough = NONE;

  /** `lag` undefined: genesis weights for every round. */
  constructor(genesisStakes: readonly bigint[], readonly lag: number | undefined) {
    if (lag !== undefined && (!Number.isInteger(lag) || lag < STAKE_LAG_ROUNDS_MIN)) {
      throw new ConsensusConfigError(`stakeLagRounds must be an integer >= ${STAKE_LAG_ROUNDS_MIN}`);
    }
    const t = stakeTableOf(genesisStakes);
    if (t === null) throw new ConsensusConfigError("total stake must be positive");
    this.genesis = t;
    this.genesisStakes = [...genesisStakes];
    this.stakes = [...genesisStakes];
  }

  /** The weights of round r, or undefined while the anchors of round r − L are not all reported. */
  forRound(r: number): StakeTable | undefined {
    if (this.lag === undefined) return this.genesis;
    const boundary = r - this.lag;
    if (boundary > this.knownThrough) return undefined;
    for (let i = this.changes.length - 1; i >= 0; i--) if (this.changes[i]!.from <= boundary) return this.changes[i]!.table;
    return this.genesis;
  }

  /** Highest round whose weights are known (Infinity without a lag). */
  knownRoundMax(): number {
    return this.lag === undefined ? Number.POSITIVE_INFINITY : this.knownThrough + this.lag;
  }

  /**
   * The stake table after every anchor received in rounds <= `round`. Reports come in
   * non-decreasing round order and must cover every round at which the table changed;
   * a round between two reports has the earlier report's table. Throws NoStakeError when
   * the total is zero (it never becomes known: consensus halts at that boundary).
   */
  record(round: number, stakes: readonly bigint[]): void {
    if (this.lag === undefined) return;
    invariant(Number.isInteger(round) && round >= this.knownThrough, `stake reports in round order (${round} after ${this.knownThrough})`);
    invariant(stakes.length === this.stakes.length, "one stake per committee member");
    const same = stakes.every((s, i) => s === this.stakes[i]);
    if (!same) {
      const table = stakeTableOf(stakes);
      if (table === null) throw new NoStakeError(round);
      const last = this.changes[this.changes.length - 1];
      if (last !== undefined && last.from === round) this.changes.pop();
      this.changes.push({ from: round, stakes: [...stakes], table });
      this.stakes.splice(0, this.stakes.length, ...stakes);
    }
    this.knownThrough = round;
  }

  /** Current (latest reported) stakes. */
  current(): readonly bigint[] {
    return this.stakes;
  }

  /** Everything reported so far (copies). */
  exportState(): WeightScheduleState {
    return { stakes: [...this.stakes], changes: this.changes.map((c) => ({ from: c.from, stakes: [...c.stakes] })), knownThrough: this.knownThrough };
  }

  /**
   * Loads an exported state into a schedule nothing was reported to yet, checking what
   * `record` and slashing would have guaranteed (round order, one stake per member, none
   * above its genesis stake, positive totals). ConsensusConfigError when it does not hold.
   */
  loadState(s: WeightScheduleState): void {
    invariant(this.knownThrough === NONE && this.changes.length === 0, "weights state loads into a fresh schedule only");
    if (this.lag === undefined) {
      if (s.changes.length > 0 || s.knownThrough !== NONE) throw new ConsensusConfigError("engine state has stake reports, this engine has no stake lag");
      return;
    }
    if (s.stakes.length !== this.stakes.length) throw new ConsensusConfigError("engine state stakes: one per committee member");
    let prev = Number.NEGATIVE_INFINITY;
    for (const c of s.changes) {
      const fits = c.stakes.length === this.stakes.length && c.stakes.every((x, i) => x >= 0n && x <= this.genesisStakes[i]!);
      if (!Number.isInteger(c.from) || c.from <= prev || c.from > s.knownThrough || !fits) {
        throw new ConsensusConfigError(`engine state stake change at round ${c.from} out of order or malformed`);
      }
      prev = c.from;
      const table = stakeTableOf(c.stakes);
      if (table === null) throw new ConsensusConfigError(`engine state stake change at round ${c.from} has total stake 0`);
      this.changes.push({ from: c.from, stakes: [...c.stakes], table });
    }
    const last = s.changes[s.changes.length - 1];
    const current = last?.stakes ?? this.stakes;
    if (!s.stakes.every((x, i) => x === current[i])) throw new ConsensusConfigError("engine state current stakes differ from its last change");
    this.stakes.splice(0, this.stakes.length, ...s.stakes);
    this.knownThrough = s.knownThrough;
  }
}
