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
 */
public final class KillNineWriter {
    static final int SECTORS = 64 * 2048; // 64 MiB
    static final String VOLUME = "kill9";

    /** Operation {@code index} of the stream of {@code seed}: (lba, sectors, tagBase). */
    static VolumeModel.Op op(long seed, int index) {
        if (seed % 2 == 0 && index % 4 != 3) {
            // The log: its p-th sector, p counting the log's operations before this one.
            long p = index - (index + 1) / 4;
            long lba = (seed * 7919 + p) % (SECTORS - 1);
            return new VolumeModel.Op(lba, 1, ((seed << 40) | ((long) index << 12)));
        }
        SplittableRandom r = new SplittableRandom(seed * 1_000_003L + index);
        int sectors = r.nextInt(10) == 0 ? 1 + r.nextInt(256) : 8;
        long lba = r.nextInt(SECTORS - sectors);
        if (r.nextInt(50) == 0) {
            return new VolumeModel.Op(lba, sectors, 0);
        }
        return new VolumeModel.Op(lba, sectors, ((seed << 40) | ((long) index << 12)));
    }

    static VolumeOptions options(long seed) {
        return VolumeOptions.defaults().withObjectBytes(1024 * 1024).withSealAfter(Duration.ofMillis(200))
                .withCheckpointEveryObjects(4).withCoalescer(seed % 2 == 0 ? 16384 : 0);
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
        ByteBuffer buf = ByteBuffer.allocateDirect(256 * 512);
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
                System.out.println("DURABLE " + (i + 1));
                System.out.flush();
            }
        }
    }
}
