package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance 3 (kill -9 part): a separate JVM filling the cache (fills, evictions, index writes
 * all under way) is killed with SIGKILL, several times; each time the cache is reopened and
 * every block of every object is read back correctly — whatever the slots and the persisted
 * index hold, torn or stale entries are caught by their CRC32C and refetched.
 */
class KillNineDuringFillsTest {
    static final int OBJECTS = 12;
    static final int BLOCKS = 8;

    @TempDir
    Path tmp;

    /** 24 slots for 96 blocks, 3 shards: constant eviction and slot reuse. */
    static ReadCacheConfig config(CacheFixture f) {
        return CacheFixture.config(f.cacheDir(), 24L * CacheFixture.BLOCK, 3, EvictionPolicy.Kind.TINY_LFU);
    }

    @Test
    void aCacheKilledWhileFillingReopensAndEveryBlockReadsCorrectly() throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            for (long seq = 1; seq <= OBJECTS; seq++) {
                f.writeObject(seq, BLOCKS * CacheFixture.BLOCK);
            }
        }
        SplittableRandom rnd = new SplittableRandom(Long.getLong("strata.kill9.seed", System.nanoTime()));
        long restoredTotal = 0;
        int rounds = Integer.getInteger("strata.kill9.rounds", 4);
        for (int round = 1; round <= rounds; round++) {
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                    "-cp", System.getProperty("java.class.path"), KillNineCacheChild.class.getName(), tmp.toString(),
                    Integer.toString(OBJECTS), Integer.toString(BLOCKS), Long.toString(rnd.nextLong()))
                    .redirectError(ProcessBuilder.Redirect.appendTo(tmp.resolve("child.log").toFile()))
                    .start();
            CountDownLatch ready = new CountDownLatch(1);
            AtomicReference<String> bad = new AtomicReference<>();
            Thread out = Thread.ofVirtual().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        if (line.equals("READY")) {
                            ready.countDown();
                        } else if (line.startsWith("BAD")) {
                            bad.set(line);
                        }
                    }
                } catch (Exception ignored) {
                    // killed
                }
            });
            assertTrue(ready.await(60, TimeUnit.SECONDS) && child.isAlive(),
                    "child did not get going; see " + tmp.resolve("child.log") + (bad.get() != null ? ": " + bad.get() : ""));
            Thread.sleep(50 + rnd.nextInt(400));
            child.toHandle().destroyForcibly(); // SIGKILL, keeping our end of its stdout: a BAD line in the pipe is not lost
            child.waitFor();
            out.join();
            assertEquals(null, bad.get(), "the child read a wrong byte");

            try (CacheFixture f = new CacheFixture(tmp)) {
                f.open(config(f));
                long restored = f.cache.cachedBlocks();
                restoredTotal += restored;
                for (long seq = 1; seq <= OBJECTS; seq++) {
                    for (int b = 0; b < BLOCKS; b++) {
                        f.readAndCheck(seq, (long) b * CacheFixture.BLOCK, CacheFixture.BLOCK);
                    }
                }
                System.out.println("round " + round + ": " + restored + " entries restored; " + f.cache.stats());
            }
        }
        assertTrue(restoredTotal > 0, "the persisted index was never used: nothing was proven about stale entries");
        assertTrue(Files.exists(tmp.resolve("cache").resolve("shard-00.data")));
    }
}
