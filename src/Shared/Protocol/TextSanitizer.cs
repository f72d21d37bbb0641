using System.Text;

namespace Safemount.Shared.Protocol;

/// <summary>
/// Makes peer-supplied text safe to print on one terminal line: control characters
/// (C0, DEL, C1), line and paragraph separators and bidi overrides become '?'.
/// </summary>
public static class TextSanitizer
{
    public static string OneLine(string text)
    {
        StringBuilder sb = new(text.Length);
        foreach (char c in text)
        {
            bool bad = c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == '\u2028' || c == '\u2029'
                || (c >= '\u202A' && c <= '\u202E') || (c >= '\u2066' && c <= '\u2069');
            sb.Append(bad ? '?' : c);
        }

        return sb.ToString();
    }
}
