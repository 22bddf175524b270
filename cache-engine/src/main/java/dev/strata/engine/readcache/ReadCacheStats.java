package dev.strata.engine.readcache;

import java.util.concurrent.atomic.LongAdder;

/** Counters of a node's read cache; cheap enough for every read. See docs/read-cache.md, "Metrics". */
public final class ReadCacheStats {
    /** Reads (calls of {@link ReadCache#read}) served entirely from the cache. */
    public final LongAdder readsFullHit = new LongAdder();
    /** Reads some of whose blocks were cached. */
    public final LongAdder readsPartialHit = new LongAdder();
    /** Reads none of whose blocks were cached. */
    public final LongAdder readsNoHit = new LongAdder();
    public final LongAdder blockHits = new LongAdder();
    public final LongAdder blockMisses = new LongAdder();
    /** Missing blocks served by another reader's GET (single flight). */
    public final LongAdder flightJoins = new LongAdder();
    /** Blocks a read took from a fetched run still in memory — a held readahead run, or a GET whose fill is still running (counted as hits too). */
    public final LongAdder heldRunHits = new LongAdder();
    /** Object headers found on the node / not found (then fetched from the bucket). */
    public final LongAdder headerHits = new LongAdder();
    public final LongAdder headerMisses = new LongAdder();
    public final LongAdder fills = new LongAdder();
    /** Fills abandoned because writing the cache file failed. */
    public final LongAdder fillFailures = new LongAdder();
    /** Blocks fetched for a read that asked not to fill them ({@link ReadCache#readWithoutFilling}: GC). */
    public final LongAdder fetchedNotFilled = new LongAdder();
    /** Fills not attempted because the fill queue was full. */
    public final LongAdder fillsDropped = new LongAdder();
    /** Fetches that waited for room for their fill: the cache disk was behind the store ("GET buffers" in docs/read-cache.md). */
    public final LongAdder fillRoomWaits = new LongAdder();
    /** Cached blocks that failed their CRC (or could not be read) and were dropped and refetched. */
    public final LongAdder corruptBlocks = new LongAdder();
    /** Ranged GETs of object data made for cache misses, and their bytes. */
    public final LongAdder bucketGets = new LongAdder();
    /** Blocks fetched ahead of a sequential reader. */
    public final LongAdder readaheadBlocks = new LongAdder();
    public final LongAdder bucketBytes = new LongAdder();
    public final LongAdder indexWrites = new LongAdder();
    /** Index writes that failed (retried once per persist interval; docs/read-cache.md, "When the index cannot be written"). */
    public final LongAdder indexWriteFailures = new LongAdder();
    /** {@code pread}s of the cache files by hits (one per block, or one per run of consecutive slots). */
    public final LongAdder fileReads = new LongAdder();
    /** Of those, direct reads made through a bounce buffer because the reader's buffer was not page-aligned (one copy more). */
    public final LongAdder fileReadsBounced = new LongAdder();
    /** Writes of fills into the cache files (one per stretch of consecutive slots a run was filled into). */
    public final LongAdder fileWrites = new LongAdder();
    /** Cached blocks dropped because their object was deleted ({@link ReadCache#forgetObject}). */
    public final LongAdder forgotten = new LongAdder();

    @Override
    public String toString() {
        return "fullHit=" + readsFullHit.sum() + " partialHit=" + readsPartialHit.sum() + " noHit=" + readsNoHit.sum()
                + " blockHits=" + blockHits.sum() + " blockMisses=" + blockMisses.sum() + " flightJoins=" + flightJoins.sum()
                + " heldRunHits=" + heldRunHits.sum() + " headerHits=" + headerHits.sum() + " headerMisses=" + headerMisses.sum()
                + " fills=" + fills.sum() + " fillFailures=" + fillFailures.sum() + " fillsDropped=" + fillsDropped.sum()
                + " fillRoomWaits=" + fillRoomWaits.sum()
                + " fetchedNotFilled=" + fetchedNotFilled.sum() + " corruptBlocks=" + corruptBlocks.sum() + " bucketGets=" + bucketGets.sum()
                + " readaheadBlocks=" + readaheadBlocks.sum() + " bucketBytes=" + bucketBytes.sum() + " indexWrites=" + indexWrites.sum() + " indexWriteFailures=" + indexWriteFailures.sum()
                + " fileReads=" + fileReads.sum() + " fileReadsBounced=" + fileReadsBounced.sum() + " fileWrites=" + fileWrites.sum()
                + " forgotten=" + forgotten.sum();
    }
}
