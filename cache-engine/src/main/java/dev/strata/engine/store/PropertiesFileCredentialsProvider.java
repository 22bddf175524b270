package dev.strata.engine.store;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Properties;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;

/**
 * Credentials from a properties file with {@code accessKey=} and {@code secretKey=} lines, such as a
 * mounted Kubernetes Secret. The file is re-read when its modification time changes, so a rotated
 * Secret takes effect without a restart. Errors name the file and the missing field, never the secret.
 */
final class PropertiesFileCredentialsProvider implements AwsCredentialsProvider {
    private final Path file;
    private FileTime loadedAt;
    private AwsCredentials credentials;

    PropertiesFileCredentialsProvider(Path file) {
        this.file = file;
        resolveCredentials(); // fail at startup, not at the first request
    }

    @Override
    public synchronized AwsCredentials resolveCredentials() {
        try {
            FileTime mtime = Files.getLastModifiedTime(file);
            if (credentials == null || !mtime.equals(loadedAt)) {
                credentials = load();
                loadedAt = mtime;
            }
            return credentials;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read S3 credentials file " + file + ": " + e.getMessage(), e);
        }
    }

    private AwsCredentials load() throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        String access = p.getProperty("accessKey");
        String secret = p.getProperty("secretKey");
        if (access == null || access.isBlank()) {
            throw new IOException("S3 credentials file " + file + " has no accessKey= line");
        }
        if (secret == null || secret.isBlank()) {
            throw new IOException("S3 credentials file " + file + " has no secretKey= line");
        }
        return AwsBasicCredentials.create(access.strip(), secret.strip());
    }

    @Override
    public String toString() {
        return "PropertiesFileCredentialsProvider[" + file + "]";
    }
}
