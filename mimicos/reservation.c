/* mimicos/reservation.c: being written (issue 4). */
typedef int placeholder_reservation;
