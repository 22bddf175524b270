package dev.strata.node.nbd;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Immutable export table. The empty name selects the default export: the first one registered. */
final class NbdExports {
    private final Map<String, NbdExport> byName;
    private final List<NbdExport> ordered;
    private final NbdExport defaultExport;

    NbdExports(List<NbdExport> exports) {
        Map<String, NbdExport> map = new LinkedHashMap<>();
        for (NbdExport e : exports) {
            if (map.putIfAbsent(e.name(), e) != null) {
                throw new IllegalArgumentException("duplicate export name: " + e.name());
            }
        }
        this.byName = Map.copyOf(map);
        this.defaultExport = exports.isEmpty() ? null : exports.getFirst();
        this.ordered = List.copyOf(exports);
    }

    /** The export for a client-supplied name, or null. */
    NbdExport find(String name) {
        if (name.isEmpty() && !byName.containsKey("")) {
            return defaultExport;
        }
        return byName.get(name);
    }

    List<NbdExport> all() {
        return ordered;
    }
}
