package dev.strata.engine.store;

import java.util.concurrent.atomic.LongAdder;

/** Counters of requests and bytes, kept by every {@link ObjectStore}; cheap enough for every request. */
public final class ObjectStoreStats {
    public final LongAdder puts = new LongAdder();
    public final LongAdder conditionalPuts = new LongAdder();
    public final LongAdder gets = new LongAdder();
    public final LongAdder rangedGets = new LongAdder();
    public final LongAdder lists = new LongAdder();
    /** LIST requests as S3 bills them: one per page of up to 1000 keys (a local directory: one per listing). */
    public final LongAdder listPages = new LongAdder();
    public final LongAdder deletes = new LongAdder();
    public final LongAdder retries = new LongAdder();
    public final LongAdder bytesPut = new LongAdder();
    public final LongAdder bytesGot = new LongAdder();

    /** All PUT-class requests (plain and conditional). */
    public long putRequests() {
        return puts.sum() + conditionalPuts.sum();
    }

    /** All GET-class requests (whole and ranged). */
    public long getRequests() {
        return gets.sum() + rangedGets.sum();
    }

    @Override
    public String toString() {
        return "puts=" + puts.sum() + " conditionalPuts=" + conditionalPuts.sum() + " gets=" + gets.sum()
                + " rangedGets=" + rangedGets.sum() + " lists=" + lists.sum() + " listPages=" + listPages.sum() + " deletes=" + deletes.sum()
                + " retries=" + retries.sum() + " bytesPut=" + bytesPut.sum() + " bytesGot=" + bytesGot.sum();
    }
}
