package dev.strata.node.nbd;

import dev.strata.engine.readcache.BlockKey;
import dev.strata.engine.readcache.ReadCache;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.volume.LogStructuredVolume;
import dev.strata.engine.volume.StrataEngine;
import dev.strata.engine.volume.VolumeOptions;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Not a test: records real block-access traces of the read cache for the eviction simulator
 * (cache-engine's {@code EvictionSimulator --traces DIR}). Each workload gets a fresh 512 MiB
 * volume served over NBD by the real engine; real {@code fio} (its nbd engine) lays it out with
 * 1 MiB sequential writes and then runs the measured job. The cache's access listener writes every
 * block lookup and every uploaded block, in order, to {@code OUT/NAME.trace}: big-endian longs,
 * {@code (objectSeq << 8 | block) << 1 | uploaded}.
 *
 * <p>args: WORKDIR OUTDIR
 */
public final class CacheTraceRecorder {
    static final long VOLUME_BYTES = 512L << 20;

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Files.createDirectories(out);
        String fio = "/usr/bin/fio";
        String common = "--ioengine=nbd --size=" + VOLUME_BYTES + " --norandommap --randrepeat=1 --iodepth=32";
        record Job(String name, String args) {}
        List<Job> jobs = List.of(
                new Job("fio-zipf-randread", "--rw=randread --bs=4k --random_distribution=zipf:0.99 --io_size=2g"),
                new Job("fio-zipf-randrw-70-30", "--rw=randrw --rwmixread=70 --bs=4k --random_distribution=zipf:0.99 --io_size=2g"),
                new Job("fio-pareto-randread-mixed-bs", "--rw=randread --bssplit=4k/60:16k/30:128k/10 --random_distribution=pareto:0.9 --io_size=4g"),
                new Job("fio-uniform-randread", "--rw=randread --bs=4k --random_distribution=random --io_size=1g"));
        for (Job job : jobs) {
            Path dir = work.resolve(job.name());
            try (StrataEngine engine = new StrataEngine(new LocalDirectoryObjectStore(dir.resolve("bucket")), dir.resolve("node"), "trace")) {
                engine.createVolume("vol", VOLUME_BYTES);
                VolumeOptions options = VolumeOptions.defaults().withSealAfter(Duration.ofMillis(200));
                try (LogStructuredVolume v = engine.openForWrite("vol", options, false);
                        var nbd = new NbdTestSupport.Fixture(Files.createDirectories(dir.resolve("nbd")), new NbdExport("vol", v));
                        Recorder rec = new Recorder(out.resolve(job.name() + ".trace"))) {
                    ReadCache cache = engine.readCache(options);
                    cache.setAccessListener(rec);
                    String uri = nbd.unixUri("vol");
                    run(fio, "--name=layout", common, "--uri=" + uri, "--rw=write", "--bs=1m");
                    v.flushToBucket();
                    run(fio, "--name=" + job.name(), common, "--uri=" + uri, job.args());
                    v.flushToBucket();
                    cache.setAccessListener(null);
                    System.out.println(job.name() + ": " + rec.lookups + " lookups, " + rec.uploads + " uploaded blocks; " + cache.stats());
                }
            }
        }
    }

    private static void run(String fio, String... parts) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(fio);
        for (String p : parts) {
            for (String a : p.split(" ")) {
                cmd.add(a);
            }
        }
        var r = NbdTestSupport.run(Duration.ofMinutes(20), Map.of(), cmd.toArray(String[]::new));
        if (r.exit() != 0) {
            throw new IOException("fio failed: " + String.join(" ", cmd) + "\n" + r.all());
        }
    }

    /** Writes events in arrival order; called from many request threads. */
    static final class Recorder implements ReadCache.AccessListener, AutoCloseable {
        private final DataOutputStream out;
        long lookups;
        long uploads;

        Recorder(Path file) throws IOException {
            this.out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 16));
        }

        private synchronized void write(BlockKey k, int uploaded) {
            try {
                out.writeLong((k.objectSeq() << 8 | k.block()) << 1 | uploaded);
                if (uploaded == 0) {
                    lookups++;
                } else {
                    uploads++;
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        @Override
        public void lookup(BlockKey key) {
            write(key, 0);
        }

        @Override
        public void uploaded(BlockKey key) {
            write(key, 1);
        }

        @Override
        public synchronized void close() throws IOException {
            out.close();
        }
    }
}
