package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cache whose index cannot be written (its directory deleted under it) tries again once per
 * persist interval, not at every fill, says so in one warning for all its shards (and one for the object headers it
 * cannot keep), and goes on serving correct reads; it never writes an index that describes a data
 * file other than the one it has open.
 */
class IndexWritesThatFailAreRetriedOncePerIntervalTest {
    static final int BLOCK = CacheFixture.BLOCK;
    static final Duration EVERY = Duration.ofMillis(500);
    static final int SHARDS = 4;

    @TempDir
    Path tmp;

    @Test
    void aDeletedCacheDirectoryCostsOneAttemptPerIntervalAndOneWarning() throws Exception {
        int objects = 100;
        try (CacheFixture f = new CacheFixture(tmp); Warnings warnings = new Warnings(CacheShard.class);
                Warnings headerWarnings = new Warnings(HeaderCache.class)) {
            for (long seq = 1; seq <= objects; seq++) {
                f.writeObject(seq, 4 * BLOCK);
            }
            f.open(CacheFixture.config(f.cacheDir(), 1024L * BLOCK, SHARDS, EvictionPolicy.Kind.TINY_LFU).withPersistEvery(EVERY));
            deleteTree(f.cacheDir());
            Thread.sleep(EVERY.toMillis() + 50); // the first fill below is due to write the index

            long t0 = System.nanoTime();
            for (long seq = 1; seq <= objects; seq++) {
                f.readAndCheck(seq, 0, 4 * BLOCK);
                f.cache.awaitFills(); // every fill asks whether the index is due
            }
            long elapsed = System.nanoTime() - t0;

            ReadCacheStats st = f.cache.stats();
            long failures = st.indexWriteFailures.sum();
            long allowed = SHARDS * (1 + elapsed / EVERY.toNanos());
            assertTrue(failures >= SHARDS, "every shard's due index write was tried and failed: " + st);
            assertTrue(failures <= allowed, failures + " failed index writes in " + elapsed / 1_000_000 + " ms of " + objects
                    + " fills: at most one per shard per interval (" + allowed + ")");
            assertEquals(0, st.indexWrites.sum(), "no index was written for the deleted data files");
            assertEquals(1, warnings.count(), "one warning for the cache's run of failures, not one per shard: " + warnings.messages());
            assertTrue(warnings.messages().get(0).contains("was deleted"), warnings.messages().get(0));

            // The blocks filled into the deleted file still serve hits, correctly. (Headers come from
            // the bucket again: their copies cannot be kept either, which is reported once too.)
            long hits = st.readsFullHit.sum();
            for (long seq = 1; seq <= objects; seq++) {
                f.readAndCheck(seq, BLOCK, 2 * BLOCK);
            }
            assertEquals(hits + objects, st.readsFullHit.sum(), "hits from the open, deleted data file: " + st);
            assertEquals(1, headerWarnings.count(), "one warning for the header copies that cannot be kept: " + headerWarnings.messages());

            // Closing tries the index a last time and says why it could not.
            IOException closing = assertThrows(IOException.class, f::closeCache);
            assertTrue(closing.getMessage().contains("was deleted"), closing.getMessage());
        }
    }

    @Test
    void anIndexIsNeverWrittenForADataFileReplacedUnderTheCache() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp); Warnings warnings = new Warnings(CacheShard.class)) {
            f.writeObject(1, 4 * BLOCK);
            f.open(CacheFixture.config(f.cacheDir(), 64L * BLOCK, 1, EvictionPolicy.Kind.TINY_LFU).withPersistEvery(EVERY));
            Path data = f.cacheDir().resolve("shard-00.data");
            Files.delete(data);
            Files.write(data, new byte[BLOCK]); // another file under the same name
            Thread.sleep(EVERY.toMillis() + 50);
            f.readAndCheck(1, 0, 4 * BLOCK);
            f.cache.awaitFills();
            assertEquals(1, f.cache.stats().indexWriteFailures.sum(), f.cache.stats().toString());
            assertEquals(0, f.cache.stats().indexWrites.sum());
            assertTrue(warnings.messages().get(0).contains("was replaced"), warnings.messages().toString());
            IOException closing = assertThrows(IOException.class, f::closeCache); // its last index write fails too
            assertTrue(closing.getMessage().contains("was replaced"), closing.getMessage());

            // Reopened on the file now under the name: nothing is believed cached, every read is correct.
            f.open(CacheFixture.config(f.cacheDir(), 64L * BLOCK, 1, EvictionPolicy.Kind.TINY_LFU).withPersistEvery(EVERY));
            assertEquals(0, f.cache.cachedBlocks());
            f.readAndCheck(1, 0, 4 * BLOCK);
        }
    }

    /** Captures a class's log records of WARNING and above. */
    private static final class Warnings extends Handler implements AutoCloseable {
        private final Logger logger;
        private final List<String> messages = new CopyOnWriteArrayList<>();

        Warnings(Class<?> of) {
            logger = Logger.getLogger(of.getName());
            logger.addHandler(this);
        }

        @Override
        public void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                messages.add(r.getMessage());
            }
        }

        int count() {
            return messages.size();
        }

        List<String> messages() {
            return messages;
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            logger.removeHandler(this);
        }
    }

    private static void deleteTree(Path p) throws Exception {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
