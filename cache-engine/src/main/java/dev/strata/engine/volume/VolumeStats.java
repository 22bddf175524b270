package dev.strata.engine.volume;

import java.util.concurrent.atomic.LongAdder;

/** Counters of one open volume (metrics and benchmarks read them). */
public final class VolumeStats {
    public final LongAdder reads = new LongAdder();
    public final LongAdder writes = new LongAdder();
    public final LongAdder trims = new LongAdder();
    public final LongAdder zeroes = new LongAdder();
    public final LongAdder flushes = new LongAdder();
    public final LongAdder bytesRead = new LongAdder();
    public final LongAdder bytesWritten = new LongAdder();
    public final LongAdder readsFromMemory = new LongAdder();
    public final LongAdder readsFromBucket = new LongAdder();
    public final LongAdder objectsSealed = new LongAdder();
    public final LongAdder objectsUploaded = new LongAdder();
    public final LongAdder checkpoints = new LongAdder();
    /** Batches sealed early because the journal ran short of space. */
    public final LongAdder sealsForJournalSpace = new LongAdder();
    /** Reads that looked up the map just before GC moved their blocks and deleted the old object: looked up again. */
    public final LongAdder readsRetriedAfterGc = new LongAdder();
    /** Large-write bypass (docs/write-paths.md): pieces of writes whose data skipped the journal, and their bytes. */
    public final LongAdder bypassedWrites = new LongAdder();
    public final LongAdder bypassedBytes = new LongAdder();
    /** FLUSH/FUA that had to wait for the upload of bypassed data. */
    public final LongAdder flushesUploadingBypassed = new LongAdder();

    @Override
    public String toString() {
        return "reads=" + reads.sum() + " writes=" + writes.sum() + " trims=" + trims.sum() + " zeroes=" + zeroes.sum()
                + " flushes=" + flushes.sum() + " bytesRead=" + bytesRead.sum() + " bytesWritten=" + bytesWritten.sum()
                + " readsFromMemory=" + readsFromMemory.sum() + " readsFromBucket=" + readsFromBucket.sum()
                + " objectsSealed=" + objectsSealed.sum() + " objectsUploaded=" + objectsUploaded.sum()
                + " checkpoints=" + checkpoints.sum() + " sealsForJournalSpace=" + sealsForJournalSpace.sum()
                + " bypassedWrites=" + bypassedWrites.sum() + " bypassedBytes=" + bypassedBytes.sum()
                + " flushesUploadingBypassed=" + flushesUploadingBypassed.sum();
    }
}
