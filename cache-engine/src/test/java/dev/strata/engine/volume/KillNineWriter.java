package dev.strata.engine.volume;

import dev.strata.engine.store.LocalDirectoryObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * The child process of {@link KillNineRecoveryTest}: writes a deterministic sequence of
 * operations (from a seed) to a volume as fast as it can, flushing every 32, and prints
 * {@code DURABLE n} after each flush returns. The parent kills it with SIGKILL at a random
 * moment and checks what a restart recovers. Even seeds run with the sequential coalescer on and
 * write a database-like log (one sector at a time, sequentially) between their random writes.
 * Seeds 3, 7, 11, ... run with the large-write bypass (from 64 KiB) and make one write in five a
 * 4 KiB-aligned 64-508 KiB one, which it takes.
 */
public final class KillNineWriter {
    static final int SECTORS = 64 * 2048; // 64 MiB
    static final String VOLUME = "kill9";
    static final int HOT_SECTORS = 8 * 1024;
    static final int BYPASS_BYTES = 64 * 1024;

    static boolean bypassSeed(long seed) {
        return seed % 4 == 3;
    }

    /** Operation {@code index} of the stream of {@code seed}: (lba, sectors, tagBase). */
    static VolumeModel.Op op(long seed, int index) {
        if (seed % 2 == 0 && index % 4 != 3) {
            // The log: its p-th sector, p counting the log's operations before this one.
            long p = index - (index + 1) / 4;
            long lba = (seed * 7919 + p) % (SECTORS - 1);
            return new VolumeModel.Op(lba, 1, ((seed << 40) | ((long) index << 12)));
        }
        SplittableRandom r = new SplittableRandom(seed * 1_000_003L + index);
        if (bypassSeed(seed) && r.nextInt(5) == 0) {
            int sectors = 8 * (16 + r.nextInt(112));
            long lba = 8L * r.nextInt((HOT_SECTORS - sectors) / 8);
            return new VolumeModel.Op(lba, sectors, ((seed << 40) | ((long) index << 12)), true);
        }
        int sectors = r.nextInt(10) == 0 ? 1 + r.nextInt(256) : 8;
        // Nine in ten land in a 4 MiB hot region: objects die fast and GC has work within a second.
        long lba = r.nextInt(10) == 0 ? r.nextInt(SECTORS - sectors) : r.nextInt(HOT_SECTORS - sectors);
        if (r.nextInt(50) == 0) {
            return new VolumeModel.Op(lba, sectors, 0);
        }
        // The engine's rule decides, also for a random write that happens to be aligned and long enough.
        boolean bypass = bypassSeed(seed) && lba % 8 == 0 && sectors % 8 == 0 && sectors * 512 >= BYPASS_BYTES;
        return new VolumeModel.Op(lba, sectors, ((seed << 40) | ((long) index << 12)), bypass);
    }

    /**
     * Small objects and frequent checkpoints; garbage collection runs every 50 ms, compacts
     * anything under 90 % live and deletes with no grace, so the kill often lands inside a GC
     * pass (copying, committing, or deleting). Even seeds with the sequential coalescer on.
     */
    static VolumeOptions options(long seed) {
        return VolumeOptions.defaults().withObjectBytes(1024 * 1024).withSealAfter(Duration.ofMillis(200))
                .withCheckpointEveryObjects(4)
                .withGc(dev.strata.engine.gc.GcOptions.defaults().withEnabled(true).withInterval(Duration.ofMillis(50)).withLiveThreshold(0.9)
                        .withDeleteGrace(Duration.ZERO).withPacing(1L << 30, 10_000))
                .withCoalescer(seed % 2 == 0 ? 16384 : 0)
                .withLargeWriteBypass(bypassSeed(seed) ? BYPASS_BYTES : 0);
    }

    public static void main(String[] args) throws Exception {
        Path bucket = Path.of(args[0]);
        Path local = Path.of(args[1]);
        long seed = Long.parseLong(args[2]);
        StrataEngine engine = new StrataEngine(new LocalDirectoryObjectStore(bucket), local, "kill9-node");
        if (!engine.exists(VOLUME)) {
            engine.createVolume(VOLUME, (long) SECTORS * 512);
        }
        LogStructuredVolume v = engine.openForWrite(VOLUME, options(seed), false);
        System.out.println("OPEN");
        System.out.flush();
        ByteBuffer buf = ByteBuffer.allocateDirect(1024 * 512);
        for (int i = 0; ; i++) {
            VolumeModel.Op op = op(seed, i);
            if (op.tagBase() == 0) {
                v.trim(op.lba() * 512, op.sectors() * 512L);
            } else {
                buf.clear();
                for (int s = 0; s < op.sectors(); s++) {
                    SectorPattern.fill(buf, op.tagAt(op.lba() + s), op.lba() + s);
                }
                buf.flip();
                v.write(op.lba() * 512, buf, false);
            }
            if ((i + 1) % 32 == 0) {
                v.flush();
                if ((i + 1) % 2048 == 0) {
                    System.err.println("gc " + v.gcStats());
                }
                System.out.println("DURABLE " + (i + 1));
                System.out.flush();
            }
        }
    }
}
