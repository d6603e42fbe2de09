mod ansible;
