/**
 * The object's one alarm, shared by every job that needs it (sealing, retention, Durable Streams expiry).
 * A job asks for "no later than T"; the alarm moves only earlier, so no job's request overrides another's.
 * Each `setAlarm` is a billed row write, so the clock remembers what is armed and skips redundant ones.
 * When the alarm fires every job runs and asks again for what it still needs.
 */
export class AlarmClock {
  #armedAtMs: number | null | undefined;

  constructor(private readonly storage: DurableObjectStorage) {}

  async armBy(atMs: number): Promise<void> {
    if (this.#armedAtMs == null) {
      const stored = await this.storage.getAlarm();
      // Another request may have armed meanwhile (two jobs can ask in one turn): keep what it armed.
      this.#armedAtMs ??= stored;
    }
    if (this.#armedAtMs !== null && this.#armedAtMs <= atMs) return;
    this.#armedAtMs = atMs;
    await this.storage.setAlarm(atMs);
  }

  /** The alarm fired (it is no longer armed), or storage was wiped. */
  fired(): void {
    this.#armedAtMs = null;
  }
}
