package dev.strata.engine.journal;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Receives the records of a replay, in sequence order. */
@FunctionalInterface
public interface RecordConsumer {
    /**
     * One verified record.
     *
     * @param data for WRITE, a read-only view of its {@code sectors × 512} bytes, valid only
     *             during this call (copy what you keep); null for TRIM and ZERO
     */
    void record(long seq, long epoch, long lba, int sectors, RecordKind kind, ByteBuffer data) throws IOException;
}
