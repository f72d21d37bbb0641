namespace Safemount.Shared.DBus;

/// <summary>
/// One (sv) entry of a property array such as StartTransientUnit's a(sv): the property name, the
/// signature of its variant and the code that marshals the value.
/// </summary>
public sealed record DBusProperty(string Name, string Signature, Action<DBusWriter> WriteValue)
{
    /// <summary>Writes the (sv) struct.</summary>
    public void Write(DBusWriter w)
    {
        w.BeginStruct();
        w.WriteString(Name);
        w.WriteVariant(Signature, WriteValue);
    }

    public static DBusProperty String(string name, string value) => new(name, "s", w => w.WriteString(value));

    public static DBusProperty Boolean(string name, bool value) => new(name, "b", w => w.WriteBoolean(value));

    public static DBusProperty UInt32(string name, uint value) => new(name, "u", w => w.WriteUInt32(value));

    public static DBusProperty Int32(string name, int value) => new(name, "i", w => w.WriteInt32(value));

    public static DBusProperty UInt64(string name, ulong value) => new(name, "t", w => w.WriteUInt64(value));

    public static DBusProperty StringArray(string name, IReadOnlyList<string> values) => new(name, "as", w => w.WriteStringArray(values));

    /// <summary>h: the index of an fd passed with the message.</summary>
    public static DBusProperty UnixFd(string name, uint index) => new(name, "h", w => w.WriteUnixFdIndex(index));
}
