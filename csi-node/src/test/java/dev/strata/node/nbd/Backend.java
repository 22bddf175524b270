package dev.strata.node.nbd;

import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.volume.LogStructuredVolume;
import dev.strata.engine.volume.StrataEngine;
import dev.strata.engine.volume.Volume;
import dev.strata.engine.volume.VolumeOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the client tests serve: the test-only {@link MemoryVolume}, or the real engine (a
 * {@link LogStructuredVolume} opened through {@link StrataEngine} on a local directory object
 * store, with its journal on local disk), the way {@code strata serve} does.
 */
enum Backend {
    MEMORY,
    ENGINE;

    /** Volumes of this backend under {@code dir}; closing closes every volume (and the engine). */
    Volumes open(Path dir) throws IOException {
        return new Volumes(this, dir);
    }

    static final class Volumes implements AutoCloseable {
        private final Backend backend;
        private final StrataEngine engine;
        private final List<Volume> opened = new ArrayList<>();

        private Volumes(Backend backend, Path dir) throws IOException {
            this.backend = backend;
            this.engine = backend == ENGINE
                    ? new StrataEngine(new LocalDirectoryObjectStore(dir.resolve("bucket")), dir.resolve("node"), "test-node")
                    : null;
        }

        /** A new, empty, writable volume. */
        CountingVolume create(String name, long size) throws IOException {
            Volume v;
            if (backend == MEMORY) {
                v = new MemoryVolume(name, size);
            } else {
                engine.createVolume(name, size);
                v = engine.openForWrite(name, VolumeOptions.defaults(), false);
            }
            opened.add(v);
            return new CountingVolume(v);
        }

        /** A new, empty, read-only volume (in the engine: a read-only open of a volume nobody wrote). */
        CountingVolume createReadOnly(String name, long size) throws IOException {
            Volume v;
            if (backend == MEMORY) {
                v = new MemoryVolume(name, size, true);
            } else {
                engine.createVolume(name, size);
                v = engine.openReadOnly(name, VolumeOptions.defaults());
            }
            opened.add(v);
            return new CountingVolume(v);
        }

        @Override
        public void close() throws Exception {
            Exception first = null;
            for (Volume v : opened.reversed()) {
                try {
                    v.close();
                } catch (Exception e) {
                    if (first == null) {
                        first = e;
                    } else {
                        first.addSuppressed(e);
                    }
                }
            }
            opened.clear();
            if (engine != null) {
                engine.close();
            }
            if (first != null) {
                throw first;
            }
        }
    }
}
