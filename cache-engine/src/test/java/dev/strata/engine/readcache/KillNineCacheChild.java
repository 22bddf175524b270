package dev.strata.engine.readcache;

import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * The child JVM of {@link KillNineDuringFillsTest}: reads random ranges of the fixture's objects
 * through a small cache (so slots are evicted and reused all the time) with its index written
 * every few milliseconds, checking every byte, until it is killed. Prints READY once the cache
 * is busy, BAD and exits 3 on a wrong byte.
 *
 * <p>args: WORKDIR OBJECTS BLOCKS_PER_OBJECT SEED
 */
public final class KillNineCacheChild {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int objects = Integer.parseInt(args[1]);
        int blocks = Integer.parseInt(args[2]);
        SplittableRandom rnd = new SplittableRandom(Long.parseLong(args[3]));
        CacheFixture f = new CacheFixture(dir);
        f.open(KillNineDuringFillsTest.config(f).withPersistEvery(Duration.ofMillis(5)));
        long reads = 0;
        while (true) {
            long seq = 1 + rnd.nextInt(objects);
            int block = rnd.nextInt(blocks);
            int count = 1 + rnd.nextInt(Math.min(3, blocks - block));
            long offset = (long) block * CacheFixture.BLOCK + 512L * rnd.nextInt(16);
            int length = count * CacheFixture.BLOCK - 512 * 16;
            try {
                f.readAndCheck(seq, offset, length);
            } catch (AssertionError e) {
                System.out.println("BAD " + e.getMessage());
                System.exit(3);
            }
            if (++reads == 100) {
                System.out.println("READY");
                System.out.flush();
            }
        }
    }
}
