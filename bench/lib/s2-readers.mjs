// The S2 counterpart of a Durable Streams long-poll reader: unary reads `GET /v1/streams/{s}/records?seq_num=N
// &wait=W` (S2-API: an empty read waits up to W seconds for records) in a loop, each record checked as it
// arrives. SSE readers are FollowReader (sse.mjs).
import { LiveReader } from "./ds-client.mjs";

export class S2LongPollReader extends LiveReader {
  /** client: S2Client (for baseUrl and token); offset here is the next seq num. */
  constructor({ client, basin, stream, agent, tracker, fromSeq = 0, waitSecs = 20 }) {
    super({ client, stream, agent, tracker, fromOffset: fromSeq });
    this.basin = basin;
    this.waitSecs = waitSecs;
  }

  start() {
    this.status = "connecting";
    void this.#loop();
    return this;
  }

  async #loop() {
    while (!this.done) {
      let res;
      try {
        res = await this._get(`/v1/streams/${encodeURIComponent(this.stream)}/records?seq_num=${this.offset}&count=1000&wait=${this.waitSecs}`, this.#headers());
      } catch (err) {
        if (!this.done) this.fail(`request error: ${err.message} after ${this.count} records`);
        return;
      }
      if (this.done) return;
      this.requests += 1;
      const text = res.body.toString("utf8");
      if (res.status !== 200) return this.fail(`HTTP ${res.status} ${text.slice(0, 200)}`);
      let batch;
      try { batch = JSON.parse(text); } catch { return this.fail(`read is not JSON: ${text.slice(0, 100)}`); }
      const records = batch.records ?? [];
      for (let i = 0; i < records.length; i++) {
        if (records[i].seq_num !== this.offset + i) return this.fail(`seq ${records[i].seq_num} where ${this.offset + i} was expected`);
      }
      this.offset += records.length;
      if (records.length > 0) this._deliverRecords(records.map((r) => r.body ?? ""), res.doneAt);
    }
  }

  #headers() {
    const headers = { accept: "application/json", "s2-basin": this.basin, "s2-format": "raw" };
    if (this.client.token) headers.authorization = `Bearer ${this.client.token}`;
    return headers;
  }
}
