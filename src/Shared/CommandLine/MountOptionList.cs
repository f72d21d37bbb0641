namespace Safemount.Shared.CommandLine;

/// <summary>
/// Splits a mount option string ("-o" argument, fstab field 4) the way libmount does
/// (mnt_optstr_next_option in util-linux libmount/src/optstr.c): items are separated by commas,
/// except inside double quotes, so that 'context="a,b"' is one item. Quotes stay part of the
/// item (libmount passes them on verbatim); empty items are skipped. An unterminated quote is
/// an error.
/// </summary>
public static class MountOptionList
{
    /// <summary>Returns the items, or null with <paramref name="error"/> set when a quote is not closed.</summary>
    public static List<string>? Split(string options, out string? error)
    {
        List<string> items = new();
        int start = 0;
        bool quoted = false;
        for (int i = 0; i <= options.Length; i++)
        {
            if (i < options.Length)
            {
                char c = options[i];
                if (c == '"')
                {
                    quoted = !quoted;
                }

                if (quoted || c != ',')
                {
                    continue;
                }
            }

            if (i > start)
            {
                items.Add(options[start..i]);
            }

            start = i + 1;
        }

        if (quoted)
        {
            error = "unterminated double quote in the option list";
            return null;
        }

        error = null;
        return items;
    }
}
