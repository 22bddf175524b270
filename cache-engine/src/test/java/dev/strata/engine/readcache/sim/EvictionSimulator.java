package dev.strata.engine.readcache.sim;

import dev.strata.engine.readcache.BlockKey;
import dev.strata.engine.readcache.EvictionPolicy;
import dev.strata.engine.readcache.SlotTable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Trace-driven comparison of the eviction policies (Caffeine's simulator is the model): replays
 * each {@link TraceWorkloads} trace through the production {@link SlotTable} and policies, sharded
 * like the cache (16 shards by 1 MiB region), at several cache sizes, and prints block hit
 * ratios as a Markdown table (the one in docs/read-cache.md).
 *
 * <p>A read lookup that misses is filled afterwards (the engine fills after answering); an upload
 * inserts each block of the object. Run: {@code EvictionSimulator [shards]}.
 */
public final class EvictionSimulator {
    static final int[] SIZES_MIB = {64, 128, 256, 512};
    /** Recorded traces come from 512 MiB volumes: the same fractions of the volume as SIZES_MIB of 2 GiB. */
    static final int[] RECORDED_SIZES_MIB = {16, 32, 64, 128};

    /** {@code EvictionSimulator [--traces DIR]}: the synthetic workloads, or every {@code *.trace} in DIR. */
    public static void main(String[] args) throws java.io.IOException {
        int shards = 16;
        if (args.length >= 2 && args[0].equals("--traces")) {
            List<Supplier<Trace>> recorded = new ArrayList<>();
            try (var files = java.nio.file.Files.list(java.nio.file.Path.of(args[1]))) {
                for (java.nio.file.Path p : files.filter(p -> p.toString().endsWith(".trace")).sorted().toList()) {
                    recorded.add(() -> {
                        try {
                            return Trace.load(p);
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
                }
            }
            System.out.println(table(recorded, shards, RECORDED_SIZES_MIB));
        } else {
            System.out.println(table(TraceWorkloads.all(), shards, SIZES_MIB));
        }
    }

    static String table(List<Supplier<Trace>> workloads, int shards, int[] sizesMib) {
        StringBuilder out = new StringBuilder();
        out.append("| trace | reads (blocks) | cache | ");
        for (EvictionPolicy.Kind k : EvictionPolicy.Kind.values()) {
            out.append(k).append(" | ");
        }
        out.append("\n|---|---|---|");
        out.append("---|".repeat(EvictionPolicy.Kind.values().length)).append('\n');
        for (Supplier<Trace> w : workloads) {
            Trace t = w.get();
            for (int mib : sizesMib) {
                out.append("| ").append(t.name).append(" | ").append(t.reads).append(" | ").append(mib).append(" MiB | ");
                List<Double> ratios = new ArrayList<>();
                for (EvictionPolicy.Kind k : EvictionPolicy.Kind.values()) {
                    ratios.add(hitRatio(t, k, mib * 16, shards));
                }
                double best = ratios.stream().mapToDouble(Double::doubleValue).max().orElse(0);
                for (double r : ratios) {
                    String s = String.format(Locale.ROOT, "%.1f %%", 100 * r);
                    out.append(r == best ? "**" + s + "**" : s).append(" | ");
                }
                out.append('\n');
            }
        }
        return out.toString();
    }

    /** Block hit ratio of {@code kind} with {@code blocks} 64 KiB slots split over {@code shards}. */
    static double hitRatio(Trace t, EvictionPolicy.Kind kind, int blocks, int shards) {
        SlotTable[] tables = new SlotTable[shards];
        for (int i = 0; i < shards; i++) {
            tables[i] = new SlotTable(blocks / shards, kind.create(blocks / shards, 42 + i));
        }
        long hits = 0;
        for (int i = 0; i < t.size(); i++) {
            long block = t.block(i);
            // Blocks of one object share the key's object part, as in the engine.
            BlockKey key = new BlockKey(0, 1, block >>> 8, 1, (int) (block & 0xFF));
            SlotTable table = tables[(int) Long.remainderUnsigned(regionHash(key), shards)];
            if (t.isFill(i)) {
                insert(table, key);
            } else if (table.lookup(key) >= 0) {
                hits++;
            } else {
                insert(table, key);
            }
        }
        return t.reads == 0 ? 0 : (double) hits / t.reads;
    }

    private static long regionHash(BlockKey k) {
        return BlockKey.mix(k.objectSeq() * 31 + k.block() / 16);
    }

    private static void insert(SlotTable table, BlockKey key) {
        int s = table.reserve(key);
        if (s >= 0) {
            table.publish(s, key, 0, 65536);
        }
    }
}
