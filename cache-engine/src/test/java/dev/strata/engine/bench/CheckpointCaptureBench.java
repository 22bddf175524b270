package dev.strata.engine.bench;

import dev.strata.engine.extentmap.ExtentMap;
import dev.strata.engine.extentmap.Locations;
import dev.strata.engine.objectlog.MapCheckpoint;
import dev.strata.engine.objectlog.ObjectTable;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Benchmark (not a test): how long a checkpoint holds the volume's batch and map locks — every
 * reader and writer of the volume waits that long — which is the time {@link MapCheckpoint#encode}
 * takes on the live map ({@code LogStructuredVolume.captureMap}). A fragmented map: EXTENTS random
 * 4 KiB writes over a 64 GiB volume, objects of 2048 writes. Median, min and max of ROUNDS after as
 * many warm-up rounds.
 *
 * <p>args: [EXTENTS=2000000] [ROUNDS=9]
 */
public final class CheckpointCaptureBench {
    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 2_000_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 9;
        ExtentMap map = new ExtentMap();
        ObjectTable table = new ObjectTable();
        SplittableRandom r = new SplittableRandom(1);
        long sectors = (64L << 30) >> 9;
        for (int i = 0; i < n; i++) {
            map.put(r.nextLong(sectors / 8) * 8, 8, Locations.pack(1 + i / 2048, (i % 2048) * 8L), null);
        }
        long objects = n / 2048 + 1;
        for (long s = 1; s <= objects; s++) {
            table.add(s, 1, 4096, 8 << 20);
        }
        double[] encode = new double[rounds];
        int bytes = 0;
        for (int k = -rounds; k < rounds; k++) {
            long t0 = System.nanoTime();
            byte[] body = MapCheckpoint.encode("v", objects, objects, 1, 1, table, map);
            long t1 = System.nanoTime();
            bytes = body.length;
            if (k >= 0) {
                encode[k] = (t1 - t0) / 1e6;
            }
        }
        Arrays.sort(encode);
        System.out.printf("extents=%d objects=%d checkpoint_MB=%.1f locks_held_encode_ms=%.1f (%.1f-%.1f) encode_MBps=%.0f%n",
                map.extentCount(), objects, bytes / 1e6, encode[rounds / 2], encode[0], encode[rounds - 1],
                bytes / 1e6 / (encode[rounds / 2] / 1e3));
    }
}
