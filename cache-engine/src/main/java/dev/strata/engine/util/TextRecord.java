package dev.strata.engine.util;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The small human-readable records of the bucket (superblock, epoch records): a type line,
 * {@code key=value} lines, and a final {@code crc32c=XXXXXXXX} line over every byte before
 * it. See docs/format.md, "Text records".
 */
public final class TextRecord {
    private final String type;
    private final Map<String, String> fields;

    public TextRecord(String type, Map<String, String> fields) {
        this.type = type;
        this.fields = new LinkedHashMap<>(fields);
    }

    public String type() {
        return type;
    }

    public Map<String, String> fields() {
        return fields;
    }

    public String require(String key, String where) throws IOException {
        String v = fields.get(key);
        if (v == null) {
            throw new IOException(where + ": field '" + key + "' is missing");
        }
        return v;
    }

    public long requireLong(String key, String where) throws IOException {
        String v = require(key, where);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IOException(where + ": field '" + key + "' is not a number: '" + v + "'");
        }
    }

    public byte[] encode() {
        StringBuilder sb = new StringBuilder(type).append('\n');
        fields.forEach((k, v) -> {
            if (k.contains("=") || k.contains("\n") || v.contains("\n")) {
                throw new IllegalArgumentException("field " + k + " cannot be encoded");
            }
            sb.append(k).append('=').append(v).append('\n');
        });
        byte[] body = sb.toString().getBytes(StandardCharsets.UTF_8);
        String crc = String.format("crc32c=%08x\n", Crc32c.of(body, 0, body.length));
        byte[] out = new byte[body.length + crc.length()];
        System.arraycopy(body, 0, out, 0, body.length);
        System.arraycopy(crc.getBytes(StandardCharsets.US_ASCII), 0, out, body.length, crc.length());
        return out;
    }

    /** Parses and verifies a record of the expected type; {@code where} names it in errors (e.g. the object key). */
    public static TextRecord decode(byte[] bytes, String expectedType, String where) throws IOException {
        String text = new String(bytes, StandardCharsets.UTF_8);
        int crcLine = text.lastIndexOf("crc32c=");
        if (crcLine < 0 || !text.endsWith("\n")) {
            throw new IOException(where + ": no crc32c line (truncated or not a " + expectedType + ")");
        }
        int bodyLen = text.substring(0, crcLine).getBytes(StandardCharsets.UTF_8).length;
        String crcText = text.substring(crcLine + 7, text.length() - 1);
        int expected;
        try {
            expected = (int) Long.parseLong(crcText, 16);
        } catch (NumberFormatException e) {
            throw new IOException(where + ": malformed crc32c '" + crcText + "'");
        }
        int actual = Crc32c.of(bytes, 0, bodyLen);
        if (expected != actual) {
            throw new IOException(String.format("%s: CRC32C mismatch (stored %08x, computed %08x)", where, expected, actual));
        }
        String[] lines = text.substring(0, crcLine).split("\n");
        if (lines.length == 0 || !lines[0].equals(expectedType)) {
            throw new IOException(where + ": not a " + expectedType + " record");
        }
        Map<String, String> fields = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int eq = lines[i].indexOf('=');
            if (eq <= 0) {
                throw new IOException(where + ": malformed line " + (i + 1) + ": '" + lines[i] + "'");
            }
            fields.put(lines[i].substring(0, eq), lines[i].substring(eq + 1));
        }
        return new TextRecord(expectedType, fields);
    }
}
