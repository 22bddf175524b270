package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.objectlog.ObjectHeader;
import dev.strata.engine.volume.CorruptDataException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A readahead that reaches an object whose header is not known yet reads the header and the
 * object's first readahead run in one ranged GET (docs/read-cache.md, "The first run rides with
 * the header"): one request per object fewer than a header GET followed by a data GET, and the
 * first run's bytes after one round trip instead of two. The bytes that came with the header are
 * checked against the header's CRC32C like any GET's, so a damaged block is never cached or read.
 * The GET's buffer is reused from object to object, and no object's bytes reach another's blocks.
 */
class TheFirstRunRidesWithTheHeaderTest {
    private static final int BLOCK = CacheFixture.BLOCK;
    /** Blocks of a readahead GET (the default: 1 MiB). */
    private static final int RUN = ReadCacheConfig.DEFAULT_READAHEAD_GET_BLOCKS;

    @TempDir
    Path tmp;

    @Test
    void aReadaheadIntoAnUnknownObjectFetchesItsFirstRunWithItsHeader() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 2 * RUN * BLOCK);
            f.open(CacheFixture.config(f.cacheDir(), 256L * BLOCK, 4, EvictionPolicy.Kind.TINY_LFU));
            f.reader.prefetch(1, CacheFixture.EPOCH, 0, 2L * RUN * BLOCK);
            awaitCached(f, 2 * RUN);
            ReadCacheStats s = f.cache.stats();
            assertEquals(2, f.dataGets(), "the header with the first run, then the second run; not a header GET of its own: " + s);
            assertEquals(1, s.bucketGets.sum(), "the cache counts the one data GET it made: " + s);
            assertEquals(2L * RUN * BLOCK, s.bucketBytes.sum(), "every block came from the bucket once: " + s);
            f.readAndCheck(1, 0, 2 * RUN * BLOCK);
            assertEquals(2, f.dataGets(), "read from the cache");
        }
    }

    @Test
    void aReadaheadThatStartsLateInTheFirstRunFetchesTheHeaderAlone() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 2 * RUN * BLOCK);
            f.open(CacheFixture.config(f.cacheDir(), 256L * BLOCK, 4, EvictionPolicy.Kind.TINY_LFU));
            // From block RUN-2: riding along, the GET would bring RUN-2 blocks nobody asked for.
            f.reader.prefetch(1, CacheFixture.EPOCH, (long) (RUN - 2) * BLOCK, 2L * BLOCK);
            awaitCached(f, 2);
            assertEquals(2, f.dataGets(), "a header GET, then the two blocks: " + f.cache.stats());
            assertEquals(1, f.cache.stats().bucketGets.sum());
            f.readAndCheck(1, (long) (RUN - 2) * BLOCK, 2 * BLOCK);
        }
    }

    @Test
    void aDamagedBlockThatCameWithTheHeaderIsNeitherCachedNorRead() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            f.writeObject(1, 2 * RUN * BLOCK);
            String key = f.keys.object(1, CacheFixture.EPOCH);
            ByteBuffer object = ByteBuffer.wrap(f.store.get(key));
            int headerBytes = ObjectHeader.decode(object.duplicate(), key).headerBytes;
            int at = headerBytes + 3 * BLOCK + 100; // data block 3, inside the first run
            object.put(at, (byte) (object.get(at) ^ 0x40));
            f.store.put(key, object);
            f.open(CacheFixture.config(f.cacheDir(), 256L * BLOCK, 4, EvictionPolicy.Kind.TINY_LFU));

            f.reader.prefetch(1, CacheFixture.EPOCH, 0, (long) RUN * BLOCK);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (f.cache.stats().readaheadBlocks.sum() < RUN || f.dataGets() < 1) {
                assertTrue(System.nanoTime() < deadline, "readahead did not start: " + f.cache.stats());
                Thread.sleep(1);
            }
            Thread.sleep(300); // the run's check and (if it passed) its fill: local copies, milliseconds
            f.cache.awaitFills();
            assertEquals(1, f.dataGets(), "the header and the first run came in one GET: " + f.cache.stats());
            assertEquals(0, f.cache.cachedBlocks(), "a run with a damaged block is not filled: " + f.cache.stats());

            CorruptDataException e = assertThrows(CorruptDataException.class, () -> f.readAndCheck(1, 3L * BLOCK, 4096));
            assertTrue(e.getMessage().contains("data block 3"), e.getMessage());
            f.readAndCheck(1, 0, 3 * BLOCK); // the blocks before it are intact: fetched by the reader, correct
        }
    }

    @Test
    void theBuffersOfHeaderGetsThatCarryARunAreReusedAndNeverLeakIntoAnotherObject() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            int objects = 8;
            for (int seq = 1; seq <= objects; seq++) {
                f.writeObject(seq, 2 * RUN * BLOCK);
            }
            f.open(CacheFixture.config(f.cacheDir(), 4L * objects * RUN * BLOCK, 4, EvictionPolicy.Kind.TINY_LFU));
            java.util.Set<byte[]> buffers = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            dev.strata.engine.store.ForwardingObjectStore recording = new dev.strata.engine.store.ForwardingObjectStore(f.store) {
                @Override
                public int getRange(String key, long offset, ByteBuffer dst) throws java.io.IOException {
                    if (offset == 0 && dst.remaining() > 64 * 1024 && dst.hasArray()) {
                        synchronized (buffers) {
                            buffers.add(dst.array());
                        }
                    }
                    return super.getRange(key, offset, dst);
                }
            };
            dev.strata.engine.objectlog.ObjectReader readahead = new dev.strata.engine.objectlog.ObjectReader(recording, f.keys, 64);
            readahead.useCache(f.cache, CacheFixture.VOLUME_ID);
            for (int seq = 1; seq <= objects; seq++) { // one object after another, as a sequential reader's window moves
                readahead.prefetch(seq, CacheFixture.EPOCH, 0, 2L * RUN * BLOCK);
                awaitCached(f, seq * 2 * RUN);
            }
            assertEquals(1, buffers.size(), "one buffer served the header GETs of " + objects + " objects in turn");
            for (int seq = 1; seq <= objects; seq++) {
                f.readAndCheck(seq, 0, 2 * RUN * BLOCK); // every object's own bytes, from the cache
            }
            assertEquals(2L * objects, f.dataGets(), "two requests per object, and the reads were cache hits: " + f.cache.stats());
        }
    }

    private static void awaitCached(CacheFixture f, int blocks) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (f.cache.cachedBlocks() < blocks) {
            assertTrue(System.nanoTime() < deadline, "readahead did not finish: " + f.cache.stats());
            Thread.sleep(1);
        }
    }
}
