/* mimicos/channel.c: being written (issue 4). */
typedef int placeholder_channel;
