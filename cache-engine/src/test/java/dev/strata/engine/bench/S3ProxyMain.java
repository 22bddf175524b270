package dev.strata.engine.bench;

import dev.strata.engine.store.S3ProxyServer;
import java.nio.file.Path;

/**
 * S3Proxy (filesystem backend) in a process of its own, for benchmarks that keep the server off
 * the reader's CPUs (bench/read-cache.sh ISOLATED=1): prints {@code endpoint=URI} once the bucket
 * exists, then serves until its standard input closes.
 *
 * <p>args: DIR BUCKET
 */
public final class S3ProxyMain {
    public static void main(String[] args) throws Exception {
        try (S3ProxyServer s3 = S3ProxyServer.startFilesystem(Path.of(args[0]))) {
            s3.createBucket(args[1]);
            System.out.println("endpoint=" + s3.endpoint());
            System.out.flush();
            while (System.in.read() >= 0) {
                // serve until the bench closes our input
            }
        }
    }
}
