package dev.salvo.dist;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * A C library opened with {@code dlopen(RTLD_NOW | RTLD_GLOBAL)}: Open MPI's plug-ins (and
 * NCCL's) resolve symbols of the library that loaded them, which a local lookup would hide.
 */
final class NativeLibrary {

    private static final int RTLD_NOW = 2;
    private static final int RTLD_GLOBAL = 0x100;
    private static final Linker LINKER = Linker.nativeLinker();

    final String name;
    final SymbolLookup lookup;

    private NativeLibrary(String name, SymbolLookup lookup) {
        this.name = name;
        this.lookup = lookup;
    }

    /** Opens the first of {@code candidates} (names or paths) that loads; null when none does, with the last dlerror in {@code why[0]}. */
    static NativeLibrary open(String[] candidates, String[] why) {
        try {
            SymbolLookup libc = LINKER.defaultLookup();
            MethodHandle dlopen = LINKER.downcallHandle(libc.find("dlopen").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            MethodHandle dlerror = LINKER.downcallHandle(libc.find("dlerror").orElseThrow(), FunctionDescriptor.of(ValueLayout.ADDRESS));
            for (String c : candidates) {
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment h = (MemorySegment) dlopen.invokeExact(a.allocateFrom(c), RTLD_NOW | RTLD_GLOBAL);
                    if (h.address() != 0) {
                        return new NativeLibrary(c, SymbolLookup.libraryLookup(c, Arena.global()));
                    }
                    MemorySegment e = (MemorySegment) dlerror.invokeExact();
                    why[0] = e.address() == 0 ? c + ": not found" : e.reinterpret(4096).getString(0);
                }
            }
            return null;
        } catch (Throwable t) {
            why[0] = t.toString();
            return null;
        }
    }

    /** A downcall to {@code symbol}. */
    MethodHandle function(String symbol, FunctionDescriptor fd) {
        MemorySegment s = lookup.find(symbol).orElseThrow(() -> new DistributedException(name + " has no symbol " + symbol));
        return LINKER.downcallHandle(s, fd);
    }

    /** The address of the global variable {@code symbol} (a predefined handle such as {@code ompi_mpi_comm_world}). */
    MemorySegment global(String symbol) {
        return lookup.find(symbol).orElseThrow(() -> new DistributedException(name + " has no symbol " + symbol));
    }
}
