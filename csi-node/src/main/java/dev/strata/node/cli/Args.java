package dev.strata.node.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Parsed {@code --flag value} / {@code --flag=value} / {@code --switch} arguments, with errors that name the flag. */
final class Args {
    private final Map<String, String> flags = new LinkedHashMap<>();
    private final List<String> positional = new ArrayList<>();

    Args(String[] argv, int from, Set<String> valueFlags, Set<String> switches) {
        for (int i = from; i < argv.length; i++) {
            String a = argv[i];
            if (a.startsWith("--")) {
                String name = a.substring(2);
                String value = null;
                int eq = name.indexOf('=');
                if (eq >= 0) {
                    value = name.substring(eq + 1);
                    name = name.substring(0, eq);
                }
                if (switches.contains(name)) {
                    flags.put(name, value == null ? "true" : value);
                } else if (valueFlags.contains(name)) {
                    if (value == null) {
                        if (i + 1 >= argv.length) {
                            throw new UsageException("--" + name + " needs a value");
                        }
                        value = argv[++i];
                    }
                    flags.put(name, value);
                } else {
                    throw new UsageException("unknown option --" + name);
                }
            } else {
                positional.add(a);
            }
        }
    }

    String get(String name, String dflt) {
        return flags.getOrDefault(name, dflt);
    }

    boolean has(String name) {
        return flags.containsKey(name);
    }

    boolean isSet(String name) {
        return Boolean.parseBoolean(flags.getOrDefault(name, "false"));
    }

    List<String> positional() {
        return positional;
    }

    /** Parses sizes like 4096, 512K, 64MiB, 4GiB, 1T (binary units). */
    static long parseSize(String flag, String text) {
        String t = text.trim().toUpperCase();
        long mult = 1;
        String[][] units = {{"TIB", "1099511627776"}, {"GIB", "1073741824"}, {"MIB", "1048576"}, {"KIB", "1024"},
            {"TB", "1099511627776"}, {"GB", "1073741824"}, {"MB", "1048576"}, {"KB", "1024"},
            {"T", "1099511627776"}, {"G", "1073741824"}, {"M", "1048576"}, {"K", "1024"}, {"B", "1"}};
        for (String[] u : units) {
            if (t.endsWith(u[0])) {
                mult = Long.parseLong(u[1]);
                t = t.substring(0, t.length() - u[0].length()).trim();
                break;
            }
        }
        try {
            long n = Long.parseLong(t);
            if (n <= 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(n, mult);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new UsageException("--" + flag + ": '" + text + "' is not a size (e.g. 4GiB, 512MiB, 1073741824)");
        }
    }

    /** A volume size: {@link #parseSize} that is also a multiple of 4096 bytes, as the engine requires. */
    static long parseVolumeSize(String flag, String text) {
        long n = parseSize(flag, text);
        if (n % 4096 != 0) {
            throw new UsageException("--" + flag + ": '" + text + "' is not a multiple of 4096 bytes");
        }
        return n;
    }

    /** A command-line mistake: printed with the usage, exit code 2. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }
}
