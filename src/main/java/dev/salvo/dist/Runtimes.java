package dev.salvo.dist;

import java.nio.file.Files;
import java.nio.file.Path;

/** Messages about the Java runtime distributed training needs. */
public final class Runtimes {

    /** Where the machines this project runs on keep a JDK 25. */
    static final Path TEMURIN_25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64");

    private Runtimes() {
    }

    /** "distributed training needs JDK 22 or newer ..." with how to select one. */
    static String needJdk22() {
        int feature = Runtime.version().feature();
        String how = Files.isExecutable(TEMURIN_25.resolve("bin/java"))
                ? "select it with JAVA_HOME=" + TEMURIN_25 + " (found here), e.g. JAVA_HOME=" + TEMURIN_25 + " mpirun -np 2 ./salvo train ..."
                : "install one and select it with JAVA_HOME=/path/to/jdk";
        if (feature >= 22) {
            return "this build of Salvo has no JDK 22 classes (META-INF/versions/22): rebuild it with a JDK 22+ present"
                    + " (see the README, \"Distributed training\"); running JDK " + feature;
        }
        return "distributed training needs JDK 22 or newer (the Foreign Function and Memory API calls libmpi); this is JDK "
                + feature + ": " + how;
    }
}
