package dev.strata.node.cli;

import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import dev.strata.engine.store.S3ObjectStore;
import dev.strata.engine.store.S3StoreConfig;
import dev.strata.node.control.ControlProtocol;
import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.Set;

/**
 * Where a command's volumes live: the embedded local directory store ({@code --dir}, the
 * default) or an S3 bucket ({@code --s3-bucket} and friends, or the same keys in a
 * {@code --config} properties file). Credentials come from the environment (the AWS default
 * chain) or a credentials file, never from the command line, so they never show in process
 * lists or logs.
 */
final class StoreSettings {
    static final Set<String> FLAGS = Set.of("dir", "config", "s3-bucket", "s3-endpoint", "s3-region", "s3-prefix",
            "s3-credentials-file");
    static final Set<String> SWITCHES = Set.of("s3-path-style");

    final Path dir;
    final S3StoreConfig s3;
    /** {@code --control PATH} (or the key in the config file), or null for the default path. */
    private final Path control;

    private StoreSettings(Path dir, S3StoreConfig s3, Path control) {
        this.dir = dir;
        this.s3 = s3;
        this.control = control;
    }

    static StoreSettings from(Args args) throws IOException {
        Properties p = new Properties();
        if (args.has("config")) {
            Path file = Path.of(args.get("config", null));
            try (Reader r = Files.newBufferedReader(file)) {
                p.load(r);
            } catch (IOException e) {
                throw new Args.UsageException("--config " + file + ": " + e.getMessage());
            }
            for (String k : p.stringPropertyNames()) {
                if (!FLAGS.contains(k) && !SWITCHES.contains(k) && !k.equals("volume") && !k.equals("listen")
                        && !k.equals("socket") && !k.equals("size") && !k.equals("control")) {
                    throw new Args.UsageException("--config " + file + ": unknown key '" + k + "'");
                }
                if (k.contains("secret") || k.contains("access-key")) {
                    throw new Args.UsageException("--config " + file + ": put credentials in the environment or s3-credentials-file");
                }
            }
        }
        Path dir = Path.of(value(args, p, "dir", "strata-data")).toAbsolutePath();
        String bucket = value(args, p, "s3-bucket", null);
        S3StoreConfig s3 = null;
        if (bucket != null) {
            S3StoreConfig.Builder b = S3StoreConfig.builder(bucket);
            String endpoint = value(args, p, "s3-endpoint", null);
            if (endpoint != null) {
                try {
                    b.endpoint(URI.create(endpoint));
                } catch (IllegalArgumentException e) {
                    throw new Args.UsageException("--s3-endpoint: '" + endpoint + "' is not a URI");
                }
            }
            b.region(value(args, p, "s3-region", S3StoreConfig.DEFAULT_REGION));
            String prefix = value(args, p, "s3-prefix", null);
            if (prefix != null) {
                b.keyPrefix(prefix);
            }
            b.pathStyle(args.isSet("s3-path-style") || Boolean.parseBoolean(p.getProperty("s3-path-style", "false")));
            String creds = value(args, p, "s3-credentials-file", null);
            if (creds != null) {
                b.credentialsFile(Path.of(creds));
            }
            try {
                s3 = b.build();
            } catch (IllegalArgumentException e) {
                throw new Args.UsageException(e.getMessage());
            }
        } else {
            for (String k : FLAGS) {
                if (k.startsWith("s3-") && (args.has(k) || p.containsKey(k))) {
                    throw new Args.UsageException("--" + k + " needs --s3-bucket");
                }
            }
        }
        String control = value(args, p, "control", null);
        return new StoreSettings(dir, s3, control == null ? null : Path.of(control).toAbsolutePath());
    }

    static String value(Args args, Properties p, String key, String dflt) {
        return args.has(key) ? args.get(key, dflt) : p.getProperty(key, dflt);
    }

    ObjectStore open() throws IOException {
        return s3 != null ? new S3ObjectStore(s3) : new LocalDirectoryObjectStore(dir.resolve("bucket"));
    }

    /** Journal, cache, locks and node identity: always on this node, under {@code dir}. */
    Path localDir() {
        return dir.resolve("node");
    }

    /**
     * The control socket of the serve that holds {@code volume} on this node: {@code --control}
     * if given, else {@code LOCALDIR/control/VOLUME.sock} (docs/control.md). {@code serve} and
     * the commands that talk to it compute the same path from the same settings.
     */
    Path controlSocket(String volume) {
        return control != null ? control : ControlProtocol.defaultSocket(localDir(), volume);
    }

    String describe() {
        return s3 != null ? s3.describe() : "local directory " + dir.resolve("bucket");
    }
}
