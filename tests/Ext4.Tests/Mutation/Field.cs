namespace Safemount.Ext4.Tests.Mutation;

/// <summary>An on-disk field a field-aware mutation may set: offset inside its structure, size in bytes, and whether it holds a block or an inode number.</summary>
internal readonly record struct Field(string Name, int Offset, int Size, FieldRole Role = FieldRole.Plain);
