import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

// Writes java_utf8.sha256: the SHA-256 of how String(bytes, UTF_8) decodes
// every sequence of one to four bytes from ALPHABET, one line each, in
// order: the bytes in hex, ':', then each char in four hex digits
// (java JavaUTF8.java > java_utf8.sha256). With -v it writes the lines.
public class JavaUTF8 {
    static final byte[] ALPHABET = HexFormat.of().parseHex(
        "00417f808f909fa0bfc0c1c2dfe0e1ecedeeeff0f1f3f4f5f7f8ff");

    public static void main(String[] args) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        boolean verbose = args.length > 0 && args[0].equals("-v");
        StringBuilder out = new StringBuilder();
        for (int n = 1; n <= 4; n++) {
            int[] idx = new int[n];
            while (true) {
                byte[] b = new byte[n];
                for (int i = 0; i < n; i++) {
                    b[i] = ALPHABET[idx[i]];
                }
                StringBuilder line = new StringBuilder(HexFormat.of().formatHex(b)).append(':');
                for (char c : new String(b, StandardCharsets.UTF_8).toCharArray()) {
                    line.append(String.format("%04x", (int) c));
                }
                line.append('\n');
                md.update(line.toString().getBytes(StandardCharsets.US_ASCII));
                if (verbose) {
                    out.append(line);
                }
                int i = n - 1;
                while (i >= 0 && ++idx[i] == ALPHABET.length) {
                    idx[i--] = 0;
                }
                if (i < 0) {
                    break;
                }
            }
        }
        System.out.print(verbose ? out : HexFormat.of().formatHex(md.digest()) + "\n");
    }
}
