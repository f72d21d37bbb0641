namespace Safemount.Ext4.Tests.Mutation;

/// <summary>What a field's value means, so "a value that points elsewhere" can be chosen.</summary>
internal enum FieldRole
{
    Plain,
    Block,
    Inode,
    Length,
}
