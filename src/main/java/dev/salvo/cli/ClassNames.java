package dev.salvo.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.salvo.data.StandardDatasets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Class names travel with the model: {@code salvo train} stores them in the model file's
 * metadata under {@value #KEY}, as a JSON array of strings in label order, when the dataset has
 * names (Fashion-MNIST); {@code salvo predict} reads them back. A model without them is fine: its
 * classes are shown by number only.
 */
final class ClassNames {

    /** The metadata key: a JSON array of strings, one per class in label order. */
    static final String KEY = "class_names";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ClassNames() {
    }

    /** The metadata facts for a model trained on {@code dataset}: the names, or nothing. */
    static Map<String, String> facts(String dataset) {
        List<String> names = StandardDatasets.classNames(dataset);
        if (names.isEmpty()) {
            return Map.of();
        }
        try {
            return Map.of(KEY, JSON.writeValueAsString(names));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The class names of a model, or an empty list when its metadata has none.
     *
     * @throws IllegalArgumentException naming the file when {@value #KEY} is not a JSON array of
     *                                  {@code classes} strings
     */
    static List<String> read(Map<String, String> metadata, int classes, Path file) {
        String text = metadata.get(KEY);
        if (text == null) {
            return List.of();
        }
        String expected = "expected a JSON array of " + classes + " strings (one per class)";
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("--model: " + file + ": __metadata__." + KEY + " is not JSON; " + expected);
        }
        if (node == null || !node.isArray() || node.size() != classes) {
            throw new IllegalArgumentException("--model: " + file + ": __metadata__." + KEY + ": " + expected + ", got "
                    + (node != null && node.isArray() ? node.size() + " entries" : abbreviate(text)));
        }
        List<String> names = new ArrayList<>(classes);
        for (JsonNode n : node) {
            if (!n.isTextual()) {
                throw new IllegalArgumentException("--model: " + file + ": __metadata__." + KEY + ": " + expected
                        + ", got " + abbreviate(n.toString()));
            }
            names.add(n.asText());
        }
        return List.copyOf(names);
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
