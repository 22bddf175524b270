package dev.strata.engine.readcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Many readers over a cache much smaller than the data, with every policy: evictions, slot reuse
 * under pinned readers, joined flights (of reads and of readahead), fills and the recycling of GET
 * buffers race all the time, and every byte is checked.
 */
class ConcurrentReadersGetCorrectBytesTest {
    static final int BLOCK = CacheFixture.BLOCK;

    @TempDir
    Path tmp;

    @ParameterizedTest
    @EnumSource(EvictionPolicy.Kind.class)
    void everyReadIsCorrectUnderContentionAndEviction(EvictionPolicy.Kind policy) throws Exception {
        try (CacheFixture f = new CacheFixture(tmp)) {
            int objects = 6;
            int blocks = 6;
            for (long seq = 1; seq <= objects; seq++) {
                f.writeObject(seq, blocks * BLOCK - 1024);
            }
            f.open(CacheFixture.config(f.cacheDir(), 8L * BLOCK, 2, policy));
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < 12; t++) {
                long seed = t;
                ts.add(Thread.ofVirtual().start(() -> {
                    SplittableRandom r = new SplittableRandom(seed);
                    try {
                        for (int i = 0; i < 150 && failure.get() == null; i++) {
                            long seq = 1 + r.nextInt(objects);
                            long size = blocks * BLOCK - 1024;
                            long off = 512L * r.nextInt((int) (size / 512));
                            int len = (int) Math.min(size - off, 512L * (1 + r.nextInt(300)));
                            if (r.nextInt(3) == 0) {
                                // Readahead flights too: joiners race the recycling of their pooled GET buffers.
                                f.reader.prefetch(1 + r.nextInt(objects), CacheFixture.EPOCH, off, 2L * BLOCK);
                            }
                            f.readAndCheck(seq, off, len);
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            for (Thread t : ts) {
                t.join();
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            f.cache.awaitFills();
            ReadCacheStats s = f.cache.stats();
            assertEquals(0, s.corruptBlocks.sum(), "no slot was ever read while being rewritten: " + s);
            assertTrue(f.cache.evictions() > 0, "the cache was too small not to evict: " + s);
            assertTrue(f.cache.cachedBlocks() <= 8);
        }
    }
}
