import java.util.Locale;

// Writes java_upper.txt: each code point that String.toUpperCase(Locale.ENGLISH)
// changes, then the code points it becomes, in hex (java JavaUpper.java > java_upper.txt).
public class JavaUpper {
    public static void main(String[] args) {
        StringBuilder sb = new StringBuilder();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE) {
                continue;
            }
            String s = new String(Character.toChars(cp));
            String u = s.toUpperCase(Locale.ENGLISH);
            if (!u.equals(s)) {
                sb.append(Integer.toHexString(cp));
                u.codePoints().forEach(c -> sb.append(' ').append(Integer.toHexString(c)));
                sb.append('\n');
            }
        }
        System.out.print(sb);
    }
}
