/** The PRODID Liaison writes into the vCards and calendar objects it creates (RFC 5545 §3.7.3, RFC 2426 §3.6.3). */
export const LIAISON_PRODID = '-//Liaison//Liaison//EN';
